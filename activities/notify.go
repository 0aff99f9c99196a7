package activities

import (
	"context"
	"time"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/notify"
)

// NotifyInput names the order and what happened to it.
type NotifyInput struct {
	OrderID   string
	EventType string // "order.created", "order.cancelled"…
}

// NotifyMerchant sends a signed webhook about an order to its merchant. The
// event id is derived from the order and the event type, so a merchant sees
// the same id on every retry and can drop duplicates.
func (a *Activities) NotifyMerchant(ctx context.Context, in NotifyInput) error {
	return failures.ToTemporal(a.notifyMerchant(ctx, in))
}

func (a *Activities) notifyMerchant(ctx context.Context, in NotifyInput) error {
	o, err := a.Store.Order(ctx, in.OrderID)
	if err != nil {
		return err
	}
	m, err := a.Store.Merchant(ctx, o.MerchantID)
	if err != nil {
		return err
	}
	log := a.log().With("order_id", o.ID, "merchant_id", m.ID, "event_type", in.EventType)
	if m.WebhookURL == "" {
		log.InfoContext(ctx, "merchant has no webhook url; notification skipped")
		return nil
	}
	ev := notify.Event{
		ID:      EventID(o.ID, in.EventType),
		Type:    in.EventType,
		Created: time.Now().Unix(),
		Data:    o, // the merchant ships to o.Shipping, so it travels in full
	}
	d, err := a.Notifier.Send(ctx, m.WebhookURL, m.WebhookSecret, ev)
	if err != nil {
		log.WarnContext(ctx, "merchant webhook failed", "status", d.StatusCode, "error", err)
		return err
	}
	log.InfoContext(ctx, "merchant notified", "status", d.StatusCode, "latency", d.Latency)
	return nil
}

// EventID names one event of one order.
func EventID(orderID, eventType string) string { return "evt_" + orderID + "_" + eventType }
