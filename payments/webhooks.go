package payments

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/buybutton/checkout/models"
)

// Stripe event types the checkout acts on.
const (
	EventIntentAmountCapturableUpdated = "payment_intent.amount_capturable_updated"
	EventIntentPaymentFailed           = "payment_intent.payment_failed"
	EventIntentSucceeded               = "payment_intent.succeeded"
	EventIntentCanceled                = "payment_intent.canceled"
	EventIntentRequiresAction          = "payment_intent.requires_action"
	EventIntentProcessing              = "payment_intent.processing"
	EventChargeRefunded                = "charge.refunded"
	EventChargeRefundUpdated           = "charge.refund.updated"
	EventRefundUpdated                 = "refund.updated"
	EventChargeDisputeCreated          = "charge.dispute.created"
	EventChargeDisputeUpdated          = "charge.dispute.updated"
	EventChargeDisputeClosed           = "charge.dispute.closed"
)

// WebhookTolerance is how old a signature may be: older deliveries are
// refused as possible replays, as Stripe's libraries do by default.
const WebhookTolerance = webhook.DefaultTolerance

// WebhookEvent is what the checkout needs of a verified Stripe event.
type WebhookEvent struct {
	ID       string
	Type     string
	ObjectID string
	// OrderID is metadata.order_id of the object ("" when it has none, e.g.
	// disputes: find the order by IntentID then).
	OrderID  string
	IntentID string // the PaymentIntent the object is or belongs to
	Status   string // the object's status as the event saw it
	Amount   int64  // disputes: the disputed amount
	Refunded int64  // charges: amount_refunded
	Reason   string // disputes: the bank's reason
	// RefundRequest is metadata.refund_request of a refund the checkout made.
	RefundRequest string
}

// ParseWebhook verifies a Stripe-Signature header on the raw body and returns
// the event. A bad, missing or stale signature, or a body that is not a
// Stripe event, is an invalid error (the endpoint answers 400). Events
// rendered with another API version are accepted: only a few stable fields
// are read.
func ParseWebhook(payload []byte, signature, secret string, now time.Time) (WebhookEvent, error) {
	if secret == "" {
		return WebhookEvent{}, models.Errorf(models.KindUnavailable, "webhooks_not_configured", "the Stripe webhook secret is not configured")
	}
	if err := verifySignature(payload, signature, secret, now); err != nil {
		return WebhookEvent{}, err
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, secret, webhook.ConstructEventOptions{
		// The timestamp was checked against now above.
		IgnoreTolerance:          true,
		IgnoreAPIVersionMismatch: true,
	})
	// Ids and types are bounded like the columns that keep them.
	if err != nil || ev.ID == "" || len(ev.ID) > 255 || ev.Type == "" || len(ev.Type) > 128 || ev.Data == nil {
		return WebhookEvent{}, models.Invalid("invalid_event", "the body is not a Stripe event")
	}
	var obj struct {
		ID             string            `json:"id"`
		Object         string            `json:"object"`
		Status         string            `json:"status"`
		Metadata       map[string]string `json:"metadata"`
		PaymentIntent  json.RawMessage   `json:"payment_intent"`
		Amount         int64             `json:"amount"`
		AmountRefunded int64             `json:"amount_refunded"`
		Reason         string            `json:"reason"`
	}
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return WebhookEvent{}, models.Invalid("invalid_event", "the event's object is malformed")
	}
	out := WebhookEvent{
		ID: ev.ID, Type: string(ev.Type), ObjectID: obj.ID, OrderID: obj.Metadata[MetadataOrderID],
		Status: obj.Status, Amount: obj.Amount, Refunded: obj.AmountRefunded, Reason: obj.Reason,
		RefundRequest: obj.Metadata[MetadataRefundRequest],
	}
	if obj.Object == "payment_intent" {
		out.IntentID = obj.ID
	} else {
		out.IntentID = expandableID(obj.PaymentIntent)
	}
	return out, nil
}

// verifySignature checks the signature and its age with our clock, so
// tests can fix "now" and a stale signature is told apart from a wrong one.
func verifySignature(payload []byte, header, secret string, now time.Time) error {
	err := webhook.ValidatePayloadIgnoringTolerance(payload, header, secret)
	if err != nil {
		if errors.Is(err, webhook.ErrNotSigned) {
			return models.Invalid("missing_signature", "the Stripe-Signature header is missing")
		}
		return models.Invalid("invalid_signature", "the Stripe-Signature does not match the body")
	}
	ts, ok := signatureTime(header)
	if !ok || now.Sub(ts) > WebhookTolerance || ts.Sub(now) > WebhookTolerance {
		return models.Invalid("stale_signature", "the Stripe-Signature is too old")
	}
	return nil
}

func signatureTime(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "t" {
			var sec int64
			for _, r := range v {
				if r < '0' || r > '9' || sec > 1<<40 {
					return time.Time{}, false
				}
				sec = sec*10 + int64(r-'0')
			}
			return time.Unix(sec, 0), v != ""
		}
	}
	return time.Time{}, false
}

// expandableID reads a Stripe reference that is either an id or an expanded object.
func expandableID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
