package models

import (
	"strings"
	"time"
)

// Profile is what a buyer chose to have remembered after a first purchase, so
// the next one is a single tap. Shipping, Email and Phone are personal data:
// the store keeps them encrypted and they never go into ids, search
// attributes or logs.
type Profile struct {
	// ID names the profile in workflow ids and Stripe idempotency keys; it is
	// derived from the order that created it and says nothing about the buyer.
	ID       string  `json:"id"`
	BuyerID  string  `json:"buyer_id"`
	Shipping Address `json:"shipping_address"`
	Email    string  `json:"email,omitempty"`
	Phone    string  `json:"phone,omitempty"`

	StripeCustomerID string      `json:"stripe_customer_id"`
	PaymentMethodID  string      `json:"payment_method_id"`
	Card             CardSummary `json:"card"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CardSummary is what may be shown of a saved card: never the number.
type CardSummary struct {
	Brand    string `json:"brand"`
	Last4    string `json:"last4"`
	ExpMonth int64  `json:"exp_month"`
	ExpYear  int64  `json:"exp_year"`
}

// ProfileIDFromOrder names the profile created by an order's purchase, so a
// retried save names the same profile.
func ProfileIDFromOrder(orderID string) string {
	return "prf_" + strings.TrimPrefix(orderID, "ord_")
}

// CheckContact validates the optional email and phone a buyer gives.
func CheckContact(email, phone string) error {
	if len(email) > 254 || email != "" && (!strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n")) {
		return Invalid("invalid_email", "email is not a valid address")
	}
	if len(phone) > 32 || strings.ContainsAny(phone, "\r\n") {
		return Invalid("invalid_phone", "phone must be at most 32 characters")
	}
	return nil
}
