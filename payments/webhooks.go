package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

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

// WebhookTolerance is how far a signature's timestamp may be from our clock:
// older deliveries are refused as possible replays whether or not their
// event id was seen, so a replay does not depend on the event table
// surviving (a restore loses it). Stripe's libraries use the same 300 s.
const WebhookTolerance = 300 * time.Second

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
	// FailureReason is why Stripe failed a refund (refunds only).
	FailureReason string
	// Account is the connected account a Connect event is about; Created
	// is when Stripe created the event (Unix seconds).
	Account string
	Created int64
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
	var ev struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Account string `json:"account"`
		Created int64  `json:"created"`
		Data    *struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	err := json.Unmarshal(payload, &ev)
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
		FailureReason  string            `json:"failure_reason"`
	}
	if err := json.Unmarshal(ev.Data.Object, &obj); err != nil {
		return WebhookEvent{}, models.Invalid("invalid_event", "the event's object is malformed")
	}
	out := WebhookEvent{
		ID: ev.ID, Type: ev.Type, ObjectID: obj.ID, OrderID: obj.Metadata[MetadataOrderID],
		Status: obj.Status, Amount: obj.Amount, Refunded: obj.AmountRefunded, Reason: obj.Reason,
		RefundRequest: obj.Metadata[MetadataRefundRequest], FailureReason: obj.FailureReason,
		Account: ev.Account, Created: ev.Created,
	}
	if obj.Object == "payment_intent" {
		out.IntentID = obj.ID
	} else {
		out.IntentID = expandableID(obj.PaymentIntent)
	}
	return out, nil
}

// StripeSignature is a parsed Stripe-Signature header: one timestamp and
// the v1 (HMAC-SHA256) signatures; other schemes are ignored.
type StripeSignature struct {
	Timestamp int64
	V1        [][]byte
}

const maxSignatures = 8

var (
	errSignatureMissing = models.Invalid("missing_signature", "the Stripe-Signature header is missing")
	errSignatureInvalid = models.Invalid("invalid_signature", "the Stripe-Signature does not match the body")
	errSignatureStale   = models.Invalid("stale_signature", "the Stripe-Signature is too old or from the future")
)

// ParseStripeSignature is the one reader of the header. The timestamp the
// age is checked on must be the one the MAC covers, so a header naming
// more than one timestamp is refused rather than read one way for the age
// and another for the MAC.
func ParseStripeSignature(header string) (StripeSignature, error) {
	if strings.TrimSpace(header) == "" {
		return StripeSignature{}, errSignatureMissing
	}
	var sig StripeSignature
	seenT := false
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return StripeSignature{}, errSignatureInvalid
		}
		switch k {
		case "t":
			ts, ok := parseUnixSeconds(v)
			if seenT || !ok {
				return StripeSignature{}, errSignatureInvalid
			}
			sig.Timestamp, seenT = ts, true
		case "v1":
			mac, err := hex.DecodeString(v)
			if err != nil || len(mac) != sha256.Size || len(sig.V1) == maxSignatures {
				return StripeSignature{}, errSignatureInvalid
			}
			sig.V1 = append(sig.V1, mac)
		}
	}
	if !seenT || len(sig.V1) == 0 {
		return StripeSignature{}, errSignatureInvalid
	}
	return sig, nil
}

// parseUnixSeconds reads a plain decimal Unix time of at most 12 digits.
func parseUnixSeconds(v string) (int64, bool) {
	if v == "" || len(v) > 12 {
		return 0, false
	}
	var sec int64
	for _, r := range v {
		if r < '0' || r > '9' {
			return 0, false
		}
		sec = sec*10 + int64(r-'0')
	}
	return sec, true
}

// SignStripePayload is the v1 signature of payload at timestamp t.
func SignStripePayload(payload []byte, secret string, t int64) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte("."))
	mac.Write(payload)
	return mac.Sum(nil)
}

// verifySignature checks the signature, then its age against our clock, so
// tests can fix "now" and a stale signature is told apart from a wrong one.
func verifySignature(payload []byte, header, secret string, now time.Time) error {
	sig, err := ParseStripeSignature(header)
	if err != nil {
		return err
	}
	want := SignStripePayload(payload, secret, sig.Timestamp)
	matched := false
	for _, got := range sig.V1 {
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return errSignatureInvalid
	}
	age := now.Sub(time.Unix(sig.Timestamp, 0))
	if age > WebhookTolerance || age < -WebhookTolerance {
		return errSignatureStale
	}
	return nil
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
