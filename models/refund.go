package models

import "time"

// RefundStatus is where one refund request is at Stripe.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"   // counted against the captured amount; Stripe not yet done
	RefundSucceeded RefundStatus = "succeeded" // Stripe accepted it
	RefundFailed    RefundStatus = "failed"    // Stripe refused it; no longer counted
)

// Refund is one request to give captured money back, named by its request
// key (the merchant's Idempotency-Key, or "cancel" for a buyer's cancel).
type Refund struct {
	OrderID        string       `json:"order_id"`
	Key            string       `json:"-"`
	AmountMinor    int64        `json:"amount"`
	Currency       string       `json:"currency"`
	Reason         string       `json:"reason,omitempty"`
	Actor          string       `json:"actor"`
	Status         RefundStatus `json:"status"`
	StripeRefundID string       `json:"stripe_refund_id,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
}

// NewRefund asks for a refund. Amount zero means whatever captured money is
// not refunded yet (a buyer's cancel after capture).
type NewRefund struct {
	OrderID     string `json:"order_id"`
	Key         string `json:"key"`
	AmountMinor int64  `json:"amount"`
	Reason      string `json:"reason,omitempty"`
	Actor       string `json:"actor"`
}

// CheckRefund is the refund rule: money can only go back once it was
// captured, and never more in total than was captured.
func CheckRefund(o Order, amount int64) error {
	switch {
	case amount < 0:
		return Invalid("invalid_amount", "refund amount must be positive")
	case o.CapturedMinor <= 0:
		return Conflict("not_captured", "order %s has no captured payment to refund", o.ID)
	case o.RefundedMinor+amount > o.CapturedMinor:
		return Conflict("refund_exceeds_captured", "refunding %d would exceed the captured %d (already refunded %d)",
			amount, o.CapturedMinor, o.RefundedMinor)
	}
	return nil
}
