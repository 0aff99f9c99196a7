package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
)

// WebhookReplayWorkflowName is the workflow that sends one order event again
// at a merchant's request.
const WebhookReplayWorkflowName = "ReplayMerchantWebhook"

// WebhookReplayWorkflowID names the replay of one delivery (its event id):
// a second replay while one runs joins it instead of doubling the traffic.
func WebhookReplayWorkflowID(deliveryID string) string { return "webhook-replay-" + deliveryID }

// WebhookReplayInput names the event to send again.
type WebhookReplayInput struct {
	OrderID   string `json:"order_id"`
	EventType string `json:"event_type"`
	// DeliveryID is the event id to send again; it tells which refund or
	// dispute a repeatable event is about. Empty: the order's one event of the type.
	DeliveryID string `json:"delivery_id,omitempty"`
}

// WebhookReplayWorkflow delivers an event again, with the same event id (the
// merchant's dedupe decides whether to apply it twice) and the same retries
// as the first delivery. It runs in Temporal rather than in the API process,
// so a replay survives restarts and every attempt lands in the delivery log.
func WebhookReplayWorkflow(ctx workflow.Context, in WebhookReplayInput) error {
	return Timing{}.WebhookReplay(ctx, in)
}

// WebhookReplay is WebhookReplayWorkflow with the worker's timing.
func (t Timing) WebhookReplay(ctx workflow.Context, in WebhookReplayInput) error {
	ctx = workflow.WithActivityOptions(ctx, t.notifyOptions())
	return workflow.ExecuteActivity(ctx, acts.NotifyMerchant,
		activities.NotifyInput{OrderID: in.OrderID, EventType: in.EventType,
			Ref: activities.RefFromEventID(in.OrderID, in.EventType, in.DeliveryID)}).Get(ctx, nil)
}
