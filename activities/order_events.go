package activities

import (
	"context"
	"strings"

	"github.com/buybutton/checkout/models"
)

// Refunds and disputes can happen several times to one order, so their
// events carry a reference to the one they are about. A reference is a hash:
// refund request keys are client text and must not reach event ids as they are.
const (
	refundRefPrefix  = "rf_"
	disputeRefPrefix = "dp_"
)

// RefundRef names one refund (by its request key) in an order.refunded event id.
func RefundRef(key string) string { return refundRefPrefix + models.TextID(key) }

// DisputeRef names one dispute (by Stripe's dispute id) in an order.disputed event id.
func DisputeRef(disputeID string) string { return disputeRefPrefix + models.TextID(disputeID) }

// OccurrenceEventID is the event id of one occurrence of an event: EventID
// for events that happen once per order, extended by the reference for
// refunds and disputes. Retries and replays of one refund keep its id, so
// the merchant applies it once; a second refund gets its own.
func OccurrenceEventID(orderID, eventType, ref string) string {
	if ref == "" {
		return EventID(orderID, eventType)
	}
	return EventID(orderID, eventType) + "_" + ref
}

// RefFromEventID recovers the reference from an event id (a delivery id of
// the log), so a replay sends the same occurrence again.
func RefFromEventID(orderID, eventType, eventID string) string {
	ref, ok := strings.CutPrefix(eventID, EventID(orderID, eventType)+"_")
	if !ok {
		return ""
	}
	return ref
}

// RefundList reads an order's refund ledger; *store.Store satisfies it.
type RefundList interface {
	Refunds(ctx context.Context, orderID string) ([]models.Refund, error)
}

// WebhookRefund is the refund an order.refunded event is about.
type WebhookRefund struct {
	Amount int64 `json:"amount"`
	// TotalRefunded counts this refund and the successful ones before it,
	// so every delivery of one event carries the same body.
	TotalRefunded int64  `json:"total_refunded"`
	Currency      string `json:"currency"`
	Reason        string `json:"reason,omitempty"`
	// Status is the refund's: succeeded, or failed with FailureReason as
	// Stripe gave it (order.refund_failed).
	Status        models.RefundStatus `json:"status,omitempty"`
	FailureReason string              `json:"failure_reason,omitempty"`
}

// WebhookDispute is the dispute an order.disputed or order.dispute_closed
// event is about: Stripe's status (won or lost once closed), the disputed
// amount and the bank's reason.
type WebhookDispute struct {
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason,omitempty"`
}

// eventData is the body's data: the order, plus the refund a refund event
// is about, read from the ledger so replays send what the first delivery did.
func (a *Activities) eventData(ctx context.Context, o models.Order, in NotifyInput) (WebhookOrder, error) {
	data := NewWebhookOrder(o)
	ref := in.Ref
	if in.Refund != nil || in.Dispute != nil {
		data.Refund, data.Dispute = in.Refund, in.Dispute
		return data, nil
	}
	if !strings.HasPrefix(ref, refundRefPrefix) {
		return data, nil
	}
	ledger, ok := a.Store.(RefundList)
	if !ok {
		return WebhookOrder{}, models.Errorf(models.KindInternal, "refunds_unsupported", "the store keeps no refund ledger")
	}
	refunds, err := ledger.Refunds(ctx, o.ID)
	if err != nil {
		return WebhookOrder{}, err
	}
	var total int64
	for _, r := range refunds {
		if r.Status != models.RefundSucceeded {
			continue
		}
		total += r.AmountMinor
		if RefundRef(r.Key) == ref {
			data.Refund = &WebhookRefund{Amount: r.AmountMinor, TotalRefunded: total, Currency: r.Currency, Reason: r.Reason}
			return data, nil
		}
	}
	return WebhookOrder{}, models.Errorf(models.KindNotFound, "refund_not_found",
		"order %s has no successful refund %s", o.ID, ref)
}
