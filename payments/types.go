// Package payments is the Stripe gateway: PaymentIntents with manual capture,
// refunds, customers and saved payment methods, on stripe-go v76 with a
// per-process client. Every call carries an idempotency key derived from the
// order and the step, so a retried activity never charges twice.
package payments

import "github.com/buybutton/checkout/models"

// Stripe PaymentIntent statuses the checkout acts on.
const (
	IntentRequiresPaymentMethod = "requires_payment_method"
	IntentRequiresConfirmation  = "requires_confirmation"
	IntentRequiresAction        = "requires_action"
	IntentProcessing            = "processing"
	IntentRequiresCapture       = "requires_capture" // authorized, money held
	IntentSucceeded             = "succeeded"        // captured
	IntentCanceled              = "canceled"
)

// AuthorizeRequest asks for money to be held on the buyer's card.
type AuthorizeRequest struct {
	OrderID       string
	Amount        models.Money
	PaymentMethod string // pm_… id from the client; card data never reaches us
	Customer      string // cus_… id for saved buyers, optional
	Description   string
}

// Intent is what the checkout needs to know of a Stripe PaymentIntent.
type Intent struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Amount           int64  `json:"amount"`
	AmountCapturable int64  `json:"amount_capturable"`
	AmountReceived   int64  `json:"amount_received"`
	Currency         string `json:"currency"`
	ClientSecret     string `json:"client_secret,omitempty"`
	NextActionType   string `json:"next_action_type,omitempty"`
	LastErrorCode    string `json:"last_error_code,omitempty"`
}

// RefundRequest returns captured money. Step names the refund within the order
// ("cancel", or a merchant's request key) and goes into the idempotency key.
type RefundRequest struct {
	OrderID  string
	IntentID string
	Amount   int64 // minor units; must be > 0
	Reason   string
	Step     string
}

// Refund is what the checkout needs to know of a Stripe Refund.
type Refund struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
}

// IdempotencyKey names one step of one order at Stripe. It carries no PII.
func IdempotencyKey(orderID, step string) string { return "order:" + orderID + ":" + step }
