package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// The ledger counts a refund before Stripe is asked. A refund workflow
// cancelled while Stripe is down must still see its refund through: left
// between the two, the order would show money refunded that never was, and
// the purchase would not learn of a full refund.
func TestRefundWorkflowCancelledFinishesTheRefund(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RefundWorkflow, workflow.RegisterOptions{Name: RefundWorkflowName})
	env.RegisterWorkflowWithOptions(MerchantEventWorkflow, workflow.RegisterOptions{Name: MerchantEventWorkflowName})
	n := &notifications{}
	n.register(env, nil)
	var mu sync.Mutex
	attempts := 0
	done := activities.RefundResult{
		Refund: models.Refund{AmountMinor: 2000, Status: models.RefundSucceeded},
		Order:  models.Order{ID: "ord_1", Status: models.StatusAccepted, CapturedMinor: 2000, RefundedMinor: 2000},
	}
	env.OnActivity(acts.RefundOrder, mock.Anything, mock.Anything).Return(
		func(context.Context, models.NewRefund) (activities.RefundResult, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts++
			if attempts < 4 {
				return activities.RefundResult{}, failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "down"))
			}
			return done, nil
		})
	env.OnSignalExternalWorkflow(mock.Anything, WorkflowID("ord_1"), "", SignalRefunded, mock.Anything).Return(nil).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, 1500*time.Millisecond)
	env.ExecuteWorkflow(RefundWorkflow, RefundInput{OrderID: "ord_1", Key: "r-1", Amount: 2000, Actor: "merchant:mer_1"})

	require.True(t, env.IsWorkflowCompleted())
	mu.Lock()
	assert.Equal(t, 4, attempts, "the refund is retried to its end")
	mu.Unlock()
	env.AssertExpectations(t)
	require.NoError(t, env.GetWorkflowError())
	var res RefundResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, models.RefundSucceeded, res.Refund.Status)
	assert.Len(t, n.all(), 1, "the merchant hears of the refund")
}
