package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/models"
)

// MetricPurchases counts purchases by what happened to them. It goes through
// workflow.GetMetricsHandler, which does not count again when a worker
// replays a history, so the numbers match what really happened.
const MetricPurchases = "checkout_purchases"

// purchaseEvent names a status the way a dashboard reads it: a purchase is
// "started" when its workflow begins (pending), "declined" when the card
// was refused, "completed" when delivered.
func purchaseEvent(s models.OrderStatus) string {
	switch s {
	case models.StatusPending:
		return "started"
	case models.StatusPaymentFailed:
		return "declined"
	case models.StatusDelivered:
		return "completed"
	}
	return string(s)
}

// countStatus counts the order's current status once per change.
func (p *purchase) countStatus(ctx workflow.Context) {
	if p.order.Status == p.counted {
		return
	}
	p.counted = p.order.Status
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"event": purchaseEvent(p.order.Status)}).
		Counter(MetricPurchases).Inc(1)
}
