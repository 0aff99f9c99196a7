package models

import "time"

// MerchantStripe is a merchant's Stripe connected account as Stripe last
// reported it (account.updated), and the merchant's own fee, if any.
type MerchantStripe struct {
	MerchantID string `json:"merchant_id"`
	AccountState
	Fee       *FeePolicy `json:"fee_override,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// AccountState is a connected account's state read from Stripe.
type AccountState struct {
	AccountID       string   `json:"account_id"`
	ChargesEnabled  bool     `json:"charges_enabled"`
	PayoutsEnabled  bool     `json:"payouts_enabled"`
	DetailsDone     bool     `json:"details_submitted"`
	RequirementsDue []string `json:"requirements_due"`
	DisabledReason  string   `json:"disabled_reason,omitempty"`
}

// CodeMerchantCannotAcceptPayments is the refusal of a purchase from a
// merchant whose connected account is missing or cannot take charges.
const CodeMerchantCannotAcceptPayments = "merchant_cannot_accept_payments"

// CheckAcceptsPayments is the Connect rule of a purchase: the merchant has a
// connected account and Stripe lets it take charges.
func CheckAcceptsPayments(ms MerchantStripe, found bool) error {
	if !found || ms.AccountID == "" || !ms.ChargesEnabled {
		return Conflict(CodeMerchantCannotAcceptPayments, "this merchant cannot accept payments yet")
	}
	return nil
}

// RefundSplit is where one refund's money came from: Amount back to the
// buyer, Reversed taken back from the merchant's transfer, FeeReturned of
// the platform fee given back to the merchant.
type RefundSplit struct {
	OrderID          string    `json:"order_id"`
	StripeRefundID   string    `json:"stripe_refund_id"`
	AmountMinor      int64     `json:"amount"`
	ReversedMinor    int64     `json:"reversed"`
	FeeReturnedMinor int64     `json:"fee_returned"`
	CreatedAt        time.Time `json:"created_at"`
}
