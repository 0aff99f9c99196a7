package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
)

func TestNotifyRetryIntervalOverridesOnlyTheFirstBackoff(t *testing.T) {
	def := Timing{}.notifyOptions()
	assert.Equal(t, 5*time.Second, def.RetryPolicy.InitialInterval)
	fast := Timing{NotifyRetryInterval: 100 * time.Millisecond}.notifyOptions()
	assert.Equal(t, 100*time.Millisecond, fast.RetryPolicy.InitialInterval)
	assert.Equal(t, 72*time.Hour, fast.ScheduleToCloseTimeout, "the three-day budget stays")
	assert.Equal(t, time.Hour, fast.RetryPolicy.MaximumInterval)
	assert.Equal(t, 5*time.Second, notifyOptions.RetryPolicy.InitialInterval, "the shared default is not mutated")
}

func TestPurchaseEventNames(t *testing.T) {
	for status, want := range map[models.OrderStatus]string{
		models.StatusPending: "started", models.StatusAuthorized: "authorized", models.StatusPaymentFailed: "declined",
		models.StatusSoldOut: "sold_out", models.StatusCancelled: "cancelled", models.StatusDelivered: "completed",
	} {
		assert.Equal(t, want, purchaseEvent(status), status)
	}
}

func TestWebhookReplaySendsTheSameEventWithRetries(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	var got []activities.NotifyInput
	attempts := 0
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.NotifyInput) error {
		got = append(got, in)
		attempts++
		if attempts < 3 {
			return models.Errorf(models.KindUnavailable, "webhook_failed", "503")
		}
		return nil
	}, activity.RegisterOptions{Name: "NotifyMerchant"})
	env.ExecuteWorkflow(Timing{NotifyRetryInterval: time.Millisecond}.WebhookReplay, WebhookReplayInput{OrderID: "ord_1", EventType: EventOrderCreated})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, got, 3)
	assert.Equal(t, activities.NotifyInput{OrderID: "ord_1", EventType: EventOrderCreated}, got[2])
}
