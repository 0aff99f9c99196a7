package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// RefundWorkflowName is the retired refund workflow: refunds are now the
// refund update of the order's workflow (purchase_money.go), or an
// EndedOrder workflow once that has ended. It stays registered for runs
// started before; nothing starts it any more.
const RefundWorkflowName = "RefundWorkflow"

// SignalRefunded tells a purchase workflow that its order was fully refunded
// before shipping: the order is cancelled and the stock goes back.
const SignalRefunded = "refunded"

// RefundWorkflowID names the workflow of one refund request. The request key
// is client text, so only its hash goes into the id.
func RefundWorkflowID(orderID, key string) string {
	return "refund-" + orderID + "-" + models.TextID(key)
}

// changeNotifyRefunded marks the version of RefundWorkflow that tells the
// merchant about the refund.
const changeNotifyRefunded = "notify-order-refunded"

// RefundedSignal is the payload of SignalRefunded.
type RefundedSignal struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// RefundWorkflow refunds through the store's ledger (which refuses more than
// was captured) and Stripe, then, when the order is fully refunded before it
// shipped, has its purchase workflow cancel it and release the stock. After
// shipping the goods are gone, so the stock stays as it is.
func RefundWorkflow(ctx workflow.Context, in RefundInput) (RefundResult, error) {
	logger := orderLogger(ctx, in.OrderID)
	// The ledger counts the refund before Stripe is asked, so a cancellation
	// that abandoned the activity between its retries would leave money
	// counted as refunded that never was. A cancelled refund therefore runs
	// to its end, and so do the signal and the webhook that follow from it.
	ctx = detached(ctx)
	var res RefundResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, compensationOptions), acts.RefundOrder,
		models.NewRefund{OrderID: in.OrderID, Key: in.Key, AmountMinor: in.Amount, Reason: in.Reason, Actor: in.Actor}).
		Get(ctx, &res)
	if err != nil {
		if e := domainError(err); e != nil {
			return RefundResult{}, failures.ToTemporal(e)
		}
		return RefundResult{}, err
	}
	o := res.Order
	if res.Refund.Status == models.RefundSucceeded && o.Status == models.StatusAccepted && o.RefundedMinor >= o.CapturedMinor {
		err := workflow.SignalExternalWorkflow(ctx, WorkflowID(in.OrderID), "", SignalRefunded,
			RefundedSignal{Actor: in.Actor, Reason: in.Reason}).Get(ctx, nil)
		if err != nil {
			logger.Warn("Telling the purchase about a full refund failed", "error", err)
		}
	}
	if res.Refund.Status == models.RefundSucceeded &&
		workflow.GetVersion(ctx, changeNotifyRefunded, workflow.DefaultVersion, 1) >= 1 {
		// The merchant hears of it without the refund's caller waiting on
		// their endpoint; a failure to start is logged, the refund stands.
		ev := RefundedEvent(in.OrderID, in.Key)
		err := startMerchantEvent(ctx, ev)
		if err != nil {
			logger.Warn("Starting the order.refunded webhook failed", "error", err)
		}
	}
	return res, nil
}
