package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
)

// NotifyInput names the order and what happened to it.
type NotifyInput struct {
	OrderID   string
	EventType string // "order.created", "order.cancelled"…
	// Ref names which occurrence of a repeatable event this is (RefundRef,
	// DisputeRef); "" for events that happen once per order.
	Ref string `json:",omitempty"`
	// Sequence numbers the order's events in the order they happened, from
	// 1; zero for events sent outside the order's outbox (refunds and
	// disputes after it, replays).
	Sequence int `json:",omitempty"`
	// Order is the order as it was when the event happened, which the event
	// carries; nil reads the order from the store at delivery.
	Order *models.Order `json:",omitempty"`
	// OccurredAt is when the event happened; zero: at delivery.
	OccurredAt time.Time `json:",omitempty"`
	// Refund and Dispute are the refund or dispute the event is about, as
	// they were when it happened; nil reads a refund from the ledger.
	Refund  *WebhookRefund  `json:",omitempty"`
	Dispute *WebhookDispute `json:",omitempty"`
}

// DeliveryLog records every webhook attempt, so a merchant can see what was
// sent, when, and what their endpoint answered; *store.Store satisfies it.
type DeliveryLog interface {
	RecordWebhookAttempt(ctx context.Context, a models.WebhookAttempt) (models.WebhookAttempt, error)
}

// MetricWebhookDeliveries counts webhook attempts by outcome (delivered,
// failed, rejected, skipped), through the worker's Temporal metrics handler.
const MetricWebhookDeliveries = "checkout_webhook_deliveries"

// NotifyMerchant sends a signed webhook about an order to its merchant. The
// event id is derived from the order and the event type, so a merchant sees
// the same id on every retry and can drop duplicates.
func (a *Activities) NotifyMerchant(ctx context.Context, in NotifyInput) error {
	return failures.ToTemporal(a.notifyMerchant(ctx, in))
}

func (a *Activities) notifyMerchant(ctx context.Context, in NotifyInput) error {
	if err := a.waitForOutbox(ctx, in); err != nil {
		return err
	}
	return a.deliver(ctx, in, nil)
}

// deliver makes one attempt at sending in, logs it in the delivery log and
// counts it through metrics (nil: the activity's own handler).
func (a *Activities) deliver(ctx context.Context, in NotifyInput, metrics client.MetricsHandler) error {
	o, err := a.eventOrder(ctx, in)
	if err != nil {
		return err
	}
	m, err := a.Store.Merchant(ctx, o.MerchantID)
	if err != nil {
		return err
	}
	log := a.orderLog(ctx, o.ID).With("merchant_id", m.ID, "event_type", in.EventType)
	attempt := models.WebhookAttempt{DeliveryID: OccurrenceEventID(o.ID, in.EventType, in.Ref), OrderID: o.ID,
		MerchantID: m.ID, EventType: in.EventType}
	if m.WebhookURL == "" {
		log.InfoContext(ctx, "merchant has no webhook url; notification skipped")
		attempt.Outcome = models.WebhookSkipped
		a.countDelivery(ctx, metrics, attempt.Outcome)
		return nil
	}
	data, err := a.eventData(ctx, o, in)
	if err != nil {
		return err
	}
	created := in.OccurredAt
	if created.IsZero() {
		created = time.Now()
	}
	ev := notify.Event{
		ID:       attempt.DeliveryID,
		Type:     in.EventType,
		Created:  created.Unix(),
		Sequence: in.Sequence,
		Data:     data,
	}
	d, err := a.Notifier.Send(ctx, m.WebhookURL, m.WebhookSecret, ev)
	attempt.StatusCode, attempt.Latency = d.StatusCode, d.Latency
	attempt.Outcome = deliveryOutcome(err)
	if err != nil {
		attempt.Error = notify.FailureReason(d, err)
	}
	a.countDelivery(ctx, metrics, attempt.Outcome)
	if lerr := a.logAttempt(ctx, attempt); lerr != nil {
		// The merchant got (or did not get) the event either way; a missing
		// log line must not cause a second delivery.
		log.WarnContext(ctx, "recording the webhook attempt failed", "error", lerr)
	}
	if err != nil {
		log.WarnContext(ctx, "merchant webhook failed", "status", d.StatusCode, "outcome", attempt.Outcome, "error", err)
		return err
	}
	log.InfoContext(ctx, "merchant notified", "status", d.StatusCode, "latency", d.Latency)
	return nil
}

// eventOrder is the order an event is about: the snapshot taken when it
// happened, or the stored order for events sent without one.
func (a *Activities) eventOrder(ctx context.Context, in NotifyInput) (models.Order, error) {
	if in.Order != nil && in.Order.ID == in.OrderID && in.Order.MerchantID != "" {
		return *in.Order, nil
	}
	return a.Store.Order(ctx, in.OrderID)
}

func (a *Activities) logAttempt(ctx context.Context, at models.WebhookAttempt) error {
	if a.Deliveries == nil {
		return nil
	}
	_, err := a.Deliveries.RecordWebhookAttempt(ctx, at)
	return err
}

// countDelivery goes through the SDK's metrics handler (h, or the
// activity's), so it lands in whatever the worker exports Temporal's own
// metrics to.
func (a *Activities) countDelivery(ctx context.Context, h client.MetricsHandler, outcome models.WebhookOutcome) {
	if h == nil {
		if !activity.IsActivity(ctx) {
			return
		}
		h = activity.GetMetricsHandler(ctx)
	}
	h.WithTags(map[string]string{"outcome": string(outcome)}).Counter(MetricWebhookDeliveries).Inc(1)
}

// EventID names one event of one order.
func EventID(orderID, eventType string) string { return "evt_" + orderID + "_" + eventType }

// WebhookOrder is the data of every order event: what the merchant needs to
// fulfil (items, quantity, shipping address, amount) and the order's state.
type WebhookOrder struct {
	OrderID         string             `json:"order_id"`
	Status          models.OrderStatus `json:"status"`
	Items           []WebhookItem      `json:"items"`
	Quantity        int                `json:"quantity"`
	Amount          int64              `json:"amount"`
	Currency        string             `json:"currency"`
	CapturedAmount  int64              `json:"captured_amount"`
	RefundedAmount  int64              `json:"refunded_amount"`
	Disputed        bool               `json:"disputed"`
	ShippingAddress models.Address     `json:"shipping_address"`
	Carrier         string             `json:"carrier,omitempty"`
	TrackingNumber  string             `json:"tracking_number,omitempty"`
	TrackingURL     string             `json:"tracking_url,omitempty"`
	FailureCode     string             `json:"failure_code,omitempty"`
	CreatedAt       time.Time          `json:"created_at"`
	// Refund is the refund an order.refunded or order.refund_failed event is about.
	Refund *WebhookRefund `json:"refund,omitempty"`
	// Dispute is the dispute an order.disputed or order.dispute_closed event is about.
	Dispute *WebhookDispute `json:"dispute,omitempty"`
	// Lines (variant, SKU, options, unit price, quantity, tax), Subtotal,
	// Shipping (rate and amount), Tax and Total are the order's pricing;
	// Amount is Total. Absent for orders placed before variants.
	Lines    []models.OrderLine     `json:"lines,omitempty"`
	Subtotal int64                  `json:"subtotal,omitempty"`
	Shipping *models.ShippingCharge `json:"shipping,omitempty"`
	Tax      *models.TaxCharge      `json:"tax,omitempty"`
	Total    int64                  `json:"total,omitempty"`
}

// WebhookItem is one line of an order. Orders hold one product today; a
// list keeps the format stable if carts come.
type WebhookItem struct {
	ProductID string `json:"product_id"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// NewWebhookOrder is the webhook view of an order.
func NewWebhookOrder(o models.Order) WebhookOrder {
	return WebhookOrder{
		OrderID: o.ID, Status: o.Status,
		Items:    []WebhookItem{{ProductID: o.ProductID, Title: o.ProductTitle, Quantity: o.Quantity, UnitPrice: o.UnitPriceMinor}},
		Quantity: o.Quantity, Amount: o.AmountMinor, Currency: o.Currency,
		CapturedAmount: o.CapturedMinor, RefundedAmount: o.RefundedMinor, Disputed: o.Disputed,
		ShippingAddress: o.Shipping, Carrier: o.Carrier, TrackingNumber: o.TrackingNumber, TrackingURL: o.TrackingURL,
		FailureCode: o.FailureCode, CreatedAt: o.CreatedAt,
		Lines: o.Lines, Subtotal: o.SubtotalMinor, Shipping: o.ShippingCharge, Tax: o.Tax, Total: o.TotalMinor,
	}
}
