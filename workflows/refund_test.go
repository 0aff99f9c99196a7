package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// A merchant's full refund before shipping cancels the order and gives the
// stock back; nothing is refunded twice.
func TestPurchaseFullyRefundedBeforeShippingIsCancelled(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.env.RegisterDelayedCallback(func() {
		// A RefundWorkflow started before refunds were updates refunded
		// everything through the ledger.
		h.mu.Lock()
		h.ledger = append(h.ledger, models.Refund{OrderID: h.order.ID, Key: "r-1", AmountMinor: 2000, Status: models.RefundSucceeded})
		h.order.RefundedMinor = 2000
		h.mu.Unlock()
		h.env.SignalWorkflow(SignalRefunded, RefundedSignal{Actor: "merchant:mer_1", Reason: "out of stock"})
	}, 2*time.Hour)
	h.run(testInput())

	o := finalStatus(t, h)
	assert.Equal(t, models.StatusCancelled, o.Status)
	calls, notified, _ := h.snapshot()
	assert.Equal(t, endingOrder([]string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:authorized",
		"CapturePayment", "RecordStatus:accepted", "ReleaseStock", "CountRefund", "CountRefund", "RecordStatus:cancelled"}), endingOrder(calls))
	assert.Contains(t, notified, EventOrderCancelled)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.False(t, h.reserved, "stock released")
}

// After shipping the goods are gone: a full refund leaves the order (and
// the stock) as it is.
func TestPurchaseRefundedAfterShippingKeepsGoing(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateShip, "", ship)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalRefunded, RefundedSignal{Actor: "merchant:mer_1"})
	}, 3*time.Hour)
	h.updateAt(4*time.Hour, UpdateDeliver, "", deliver)
	h.run(testInput())

	assert.Equal(t, models.StatusDelivered, finalStatus(t, h).Status)
	calls, _, _ := h.snapshot()
	assert.NotContains(t, calls, "ReleaseStock")
	assert.NotContains(t, calls, "CreateRefund")
}

func newRefundEnv(t *testing.T, result activities.RefundResult, err error) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(RefundWorkflow, workflow.RegisterOptions{Name: RefundWorkflowName})
	env.RegisterWorkflowWithOptions(MerchantEventWorkflow, workflow.RegisterOptions{Name: MerchantEventWorkflowName})
	env.OnActivity(acts.RefundOrder, mock.Anything, mock.Anything).Return(result, err)
	return env
}

func TestRefundWorkflow(t *testing.T) {
	in := RefundInput{OrderID: "ord_1", Key: "r-1", Amount: 500, Actor: "merchant:mer_1", Reason: "damaged"}
	accepted := models.Order{ID: "ord_1", Status: models.StatusAccepted, CapturedMinor: 2000}

	t.Run("partial refund leaves the purchase alone", func(t *testing.T) {
		o := accepted
		o.RefundedMinor = 500
		env := newRefundEnv(t, activities.RefundResult{Refund: models.Refund{AmountMinor: 500, Status: models.RefundSucceeded}, Order: o}, nil)
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		var res RefundResult
		require.NoError(t, env.GetWorkflowResult(&res))
		assert.Equal(t, int64(500), res.Order.RefundedMinor)
		env.AssertNotCalled(t, "SignalExternalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything)
	})

	t.Run("full refund before shipping tells the purchase", func(t *testing.T) {
		o := accepted
		o.RefundedMinor = 2000
		env := newRefundEnv(t, activities.RefundResult{Refund: models.Refund{AmountMinor: 2000, Status: models.RefundSucceeded}, Order: o}, nil)
		env.OnSignalExternalWorkflow(mock.Anything, WorkflowID("ord_1"), "", SignalRefunded, mock.Anything).Return(nil).Once()
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		env.AssertExpectations(t)
	})

	t.Run("full refund after shipping does not", func(t *testing.T) {
		o := accepted
		o.Status, o.RefundedMinor = models.StatusDelivered, 2000
		env := newRefundEnv(t, activities.RefundResult{Refund: models.Refund{AmountMinor: 2000, Status: models.RefundSucceeded}, Order: o}, nil)
		env.ExecuteWorkflow(RefundWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		env.AssertNotCalled(t, "SignalExternalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything)
	})

	t.Run("excess is refused as a conflict", func(t *testing.T) {
		env := newRefundEnv(t, activities.RefundResult{},
			failures.ToTemporal(models.Conflict("refund_exceeds_captured", "too much")))
		env.ExecuteWorkflow(RefundWorkflow, in)
		err := env.GetWorkflowError()
		require.Error(t, err)
		var app *temporal.ApplicationError
		require.ErrorAs(t, err, &app)
		assert.Equal(t, string(models.KindConflict), app.Type())
		assert.True(t, app.NonRetryable())
	})
}
