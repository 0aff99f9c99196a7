package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
)

// Events about money moving after the purchase: each can happen more than
// once per order, so their event ids carry a reference (activities.RefundRef,
// activities.DisputeRef).
const (
	EventOrderRefunded = "order.refunded" // a refund succeeded: data.refund has its amount and the total refunded
	EventOrderDisputed = "order.disputed" // the buyer's bank opened a dispute (chargeback)
)

// MerchantEventWorkflowName sends one order event to the merchant, for
// events that arise outside the purchase workflow (refunds, disputes).
const MerchantEventWorkflowName = "SendMerchantEvent"

// MerchantEventWorkflowID names the sending of one event (by its event id):
// starting it twice joins the first rather than sending twice.
func MerchantEventWorkflowID(eventID string) string { return "merchant-event-" + eventID }

// MerchantEventInput names the event.
type MerchantEventInput struct {
	OrderID   string `json:"order_id"`
	EventType string `json:"event_type"`
	Ref       string `json:"ref,omitempty"`
}

// EventID is the id the merchant sees (and the delivery log lists).
func (in MerchantEventInput) EventID() string {
	return activities.OccurrenceEventID(in.OrderID, in.EventType, in.Ref)
}

// MerchantEventWorkflow delivers one event with the purchase's webhook
// retries (three days of backoff), so whoever starts it, the API or another
// workflow, never waits on the merchant's endpoint.
func MerchantEventWorkflow(ctx workflow.Context, in MerchantEventInput) error {
	return Timing{}.MerchantEvent(ctx, in)
}

// MerchantEvent is MerchantEventWorkflow with the worker's timing.
func (t Timing) MerchantEvent(ctx workflow.Context, in MerchantEventInput) error {
	ctx = workflow.WithActivityOptions(ctx, t.notifyOptions())
	return workflow.ExecuteActivity(ctx, acts.NotifyMerchant,
		activities.NotifyInput{OrderID: in.OrderID, EventType: in.EventType, Ref: in.Ref}).Get(ctx, nil)
}

// startMerchantEvent starts the event's workflow as an abandoned child: it
// outlives its parent, which only waits for it to start. An event already
// being sent (or sent) under the same id is left to that run.
func startMerchantEvent(ctx workflow.Context, in MerchantEventInput) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            MerchantEventWorkflowID(in.EventID()),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	})
	err := workflow.ExecuteChildWorkflow(cctx, MerchantEventWorkflowName, in).GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil
	}
	return err
}

// RefundedEvent is the order.refunded event of the refund requested under key.
func RefundedEvent(orderID, key string) MerchantEventInput {
	return MerchantEventInput{OrderID: orderID, EventType: EventOrderRefunded, Ref: activities.RefundRef(key)}
}

// DisputedEvent is the order.disputed event of one Stripe dispute.
func DisputedEvent(orderID, disputeID string) MerchantEventInput {
	return MerchantEventInput{OrderID: orderID, EventType: EventOrderDisputed, Ref: activities.DisputeRef(disputeID)}
}
