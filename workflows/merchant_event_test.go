package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// notifications records NotifyMerchant calls made in a test environment.
type notifications struct {
	mu  sync.Mutex
	got []activities.NotifyInput
}

func (n *notifications) register(env *testsuite.TestWorkflowEnvironment, fail func(attempt int) error) {
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.NotifyInput) error {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.got = append(n.got, in)
		if fail != nil {
			return fail(len(n.got))
		}
		return nil
	}, activity.RegisterOptions{Name: "NotifyMerchant"})
}

func (n *notifications) all() []activities.NotifyInput {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]activities.NotifyInput(nil), n.got...)
}

func refundEnvNotifying(t *testing.T, result activities.RefundResult, err error) (*testsuite.TestWorkflowEnvironment, *notifications) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RefundWorkflow, workflow.RegisterOptions{Name: RefundWorkflowName})
	env.RegisterWorkflowWithOptions(MerchantEventWorkflow, workflow.RegisterOptions{Name: MerchantEventWorkflowName})
	n := &notifications{}
	n.register(env, nil)
	env.OnActivity(acts.RefundOrder, mock.Anything, mock.Anything).Return(result, err)
	return env, n
}

func TestRefundWorkflowTellsTheMerchant(t *testing.T) {
	in := RefundInput{OrderID: "ord_1", Key: "r-1", Amount: 500, Actor: "merchant:mer_1"}
	o := models.Order{ID: "ord_1", Status: models.StatusDelivered, CapturedMinor: 2000, RefundedMinor: 500}

	t.Run("a successful refund sends order.refunded named by its key", func(t *testing.T) {
		env, n := refundEnvNotifying(t, activities.RefundResult{
			Refund: models.Refund{AmountMinor: 500, Status: models.RefundSucceeded}, Order: o}, nil)
		var child string
		env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
			child = info.WorkflowExecution.ID
		})
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		want := activities.NotifyInput{OrderID: "ord_1", EventType: EventOrderRefunded, Ref: activities.RefundRef("r-1")}
		assert.Equal(t, []activities.NotifyInput{want}, n.all())
		assert.Equal(t, MerchantEventWorkflowID("evt_ord_1_order.refunded_"+activities.RefundRef("r-1")), child)
	})

	t.Run("two refunds of one order have two event ids", func(t *testing.T) {
		a := RefundedEvent("ord_1", "r-1").EventID()
		b := RefundedEvent("ord_1", "r-2").EventID()
		assert.NotEqual(t, a, b)
		assert.Equal(t, a, RefundedEvent("ord_1", "r-1").EventID(), "stable per refund")
		assert.NotContains(t, a, "r-1", "client keys are hashed")
		longest := RefundedEvent("ord_"+strings.Repeat("x", 60), "k").EventID()
		assert.LessOrEqual(t, len(longest), 128, "fits the delivery log's id column")
	})

	t.Run("a refused refund sends nothing", func(t *testing.T) {
		env, n := refundEnvNotifying(t, activities.RefundResult{},
			failures.ToTemporal(models.Conflict("refund_exceeds_captured", "too much")))
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.Error(t, env.GetWorkflowError())
		assert.Empty(t, n.all())
	})

	t.Run("a refund Stripe turned down sends nothing", func(t *testing.T) {
		env, n := refundEnvNotifying(t, activities.RefundResult{
			Refund: models.Refund{AmountMinor: 500, Status: models.RefundFailed}, Order: o}, nil)
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		assert.Empty(t, n.all())
	})

	t.Run("the delivery is a workflow of its own", func(t *testing.T) {
		env, n := refundEnvNotifying(t, activities.RefundResult{
			Refund: models.Refund{AmountMinor: 500, Status: models.RefundSucceeded}, Order: o}, nil)
		env.OnWorkflow(MerchantEventWorkflowName, mock.Anything, mock.Anything).
			Return(nil).Once()
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		assert.Empty(t, n.all(), "the mocked child stood in for the delivery")
	})
}

func TestMerchantEventWorkflowRetriesUntilDelivered(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	n := &notifications{}
	n.register(env, func(attempt int) error {
		if attempt < 3 {
			return models.Errorf(models.KindUnavailable, "webhook_failed", "503")
		}
		return nil
	})
	env.ExecuteWorkflow(Timing{NotifyRetryInterval: time.Millisecond}.MerchantEvent, DisputedEvent("ord_1", "dp_1"))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	got := n.all()
	require.Len(t, got, 3)
	for _, g := range got {
		assert.Equal(t, activities.NotifyInput{OrderID: "ord_1", EventType: EventOrderDisputed, Ref: activities.DisputeRef("dp_1")}, g)
	}
}

func TestMerchantEventWorkflowStopsWhenTheMerchantRefuses(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	n := &notifications{}
	n.register(env, func(int) error {
		return failures.ToTemporal(models.Invalid("webhook_rejected", "410"))
	})
	env.ExecuteWorkflow(MerchantEventWorkflow, DisputedEvent("ord_1", "dp_1"))
	require.Error(t, env.GetWorkflowError())
	assert.Len(t, n.all(), 1, "a 4xx is not retried")
}

// A replay of a refund's delivery sends that refund again, not the order's
// first refund or a refund without data.
func TestWebhookReplayOfARefundKeepsItsReference(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	n := &notifications{}
	n.register(env, nil)
	ev := RefundedEvent("ord_1", "r-2")
	env.ExecuteWorkflow(WebhookReplayWorkflow, WebhookReplayInput{OrderID: "ord_1", EventType: EventOrderRefunded, DeliveryID: ev.EventID()})
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []activities.NotifyInput{{OrderID: "ord_1", EventType: EventOrderRefunded, Ref: ev.Ref}}, n.all())
}
