package models

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// Order is one purchase of one product by one buyer. Its life is driven by a
// PurchaseWorkflow; the stored row is the read model of that workflow.
type Order struct {
	ID             string      `json:"id"`
	BuyerID        string      `json:"buyer_id"`
	MerchantID     string      `json:"merchant_id"`
	ProductID      string      `json:"product_id"`
	ProductTitle   string      `json:"product_title"`
	Quantity       int         `json:"quantity"`
	UnitPriceMinor int64       `json:"unit_price"`
	AmountMinor    int64       `json:"amount"`
	Currency       string      `json:"currency"`
	Status         OrderStatus `json:"status"`
	FailureCode    string      `json:"failure_code,omitempty"`
	// ClearFailureCode empties the failure code (FailureCode "" keeps it):
	// an order back from needs_attention to an ending that had none.
	ClearFailureCode bool   `json:"clear_failure_code,omitempty"`
	PaymentIntentID  string `json:"payment_intent_id,omitempty"`
	CapturedMinor    int64  `json:"captured_amount"`
	RefundedMinor    int64  `json:"refunded_amount"`
	// Disputed is set while the buyer's bank disputes the payment (Stripe's
	// charge.dispute.created) and stays set when the dispute is lost; it
	// clears when it is won. The order's status is left as it was.
	Disputed bool `json:"disputed"`
	// DisputeStatus is Stripe's status of that dispute (needs_response,
	// under_review, won, lost…); "" when there was none.
	DisputeStatus  string    `json:"dispute_status,omitempty"`
	Shipping       Address   `json:"shipping_address"`
	Carrier        string    `json:"carrier,omitempty"`
	TrackingNumber string    `json:"tracking_number,omitempty"`
	TrackingURL    string    `json:"tracking_url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	// OrderPricing is the variant, lines, shipping, tax and total the
	// order was validated with; AmountMinor is that total.
	OrderPricing
}

// Amount is the order total as Money.
func (o Order) Amount() Money { return Money{Amount: o.AmountMinor, Currency: o.Currency} }

// OrderEvent is one line of an order's append-only audit log.
type OrderEvent struct {
	ID        int64       `json:"id"`
	OrderID   string      `json:"order_id"`
	From      OrderStatus `json:"from,omitempty"`
	To        OrderStatus `json:"to"`
	Actor     string      `json:"actor"` // "buyer:<id>", "merchant:<id>", "system"
	Detail    string      `json:"detail,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
}

// Actor names for the audit log.
const (
	ActorSystem   = "system"
	ActorOperator = "operator"
)

// BuyerActor and MerchantActor name who did something, for the audit log.
func BuyerActor(id string) string    { return "buyer:" + id }
func MerchantActor(id string) string { return "merchant:" + id }

// OrderIDFromIdempotencyKey derives an order id from the buyer and the
// client's Idempotency-Key, so a retried request always names the same order
// (and therefore the same workflow) without any lookup.
func OrderIDFromIdempotencyKey(buyerID, key string) string {
	sum := sha256.Sum256([]byte(buyerID + "\x00" + key))
	return "ord_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// ValidID reports whether s looks like an id we issue (prefix + base32/alnum),
// so malformed ids are refused before reaching storage or Temporal.
func ValidID(s string) bool {
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// CheckPaymentMethod validates a Stripe PaymentMethod id as a buyer sends it.
// The API checks it to answer 400 early; the order activity checks it again
// because a workflow may be started without the API.
func CheckPaymentMethod(pm string) error {
	if !strings.HasPrefix(pm, "pm_") || !ValidID(pm) {
		return Invalid("invalid_payment_method", "payment_method must be a Stripe PaymentMethod id (pm_…)")
	}
	return nil
}

// StatusChange is one transition of an order, with the facts learnt on the
// way. The store applies it atomically with its audit event; applying the same
// change twice is a no-op, so retried activities are safe.
type StatusChange struct {
	OrderID     string      `json:"order_id"`
	To          OrderStatus `json:"to"`
	Actor       string      `json:"actor"`
	Detail      string      `json:"detail,omitempty"`
	FailureCode string      `json:"failure_code,omitempty"`
	// ClearFailureCode empties the failure code (FailureCode "" keeps it):
	// an order back from needs_attention to an ending that had none.
	ClearFailureCode bool   `json:"clear_failure_code,omitempty"`
	PaymentIntentID  string `json:"payment_intent_id,omitempty"`
	CapturedMinor    *int64 `json:"captured_amount,omitempty"`
	RefundedMinor    *int64 `json:"refunded_amount,omitempty"`
	Carrier          string `json:"carrier,omitempty"`
	TrackingNumber   string `json:"tracking_number,omitempty"`
	TrackingURL      string `json:"tracking_url,omitempty"`
	// EventSequence, when set, is the sequence number of the merchant event
	// that follows this change: the store keeps it as the order's last
	// (as SaveEventSequence does), in the same transaction.
	EventSequence int `json:"event_sequence,omitempty"`
}

// Stripe dispute statuses the checkout tells apart.
const (
	DisputeNeedsResponse = "needs_response"
	DisputeWon           = "won"
	DisputeLost          = "lost"
)

// DisputeHoldsMoney reports whether a dispute in status keeps the payment
// from the merchant: open, or lost.
func DisputeHoldsMoney(status string) bool {
	return status != DisputeWon && status != "warning_closed"
}

// DisputeClosed reports whether a Stripe dispute status is final.
func DisputeClosed(status string) bool {
	return status == DisputeWon || status == DisputeLost || status == "warning_closed"
}
