// Package payments is the Stripe gateway: PaymentIntents with manual capture,
// refunds, customers and saved payment methods, on stripe-go v76 with a
// per-process client. Every call carries an idempotency key derived from the
// order and the step, so a retried activity never charges twice.
package payments

import (
	"strconv"

	"github.com/buybutton/checkout/models"
)

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
	// SaveCard asks Stripe to set the card up for later payments
	// (setup_future_usage=off_session) instead of attaching it before use:
	// with Customer, Stripe saves it there once the intent authorizes;
	// without, it can be attached to a new customer afterwards
	// (Gateway.SaveOrderCard). The intent then comes back with the card's
	// details and the payment method to save.
	SaveCard bool
	// Attempt is the caller's try (from 1), which scopes the idempotency
	// key; set by the activity, never by the workflow.
	Attempt int32 `json:",omitempty"`
	// MerchantID is the order's merchant, whose account and fee the
	// activity takes for a destination charge (the order's row is read when
	// it is empty). Set by the workflow.
	MerchantID string `json:",omitempty"`
	// AttemptsBefore counts the tries made at this authorization before the
	// activity was scheduled (as a local activity): the activity's attempts
	// are numbered on from there. Set by the workflow.
	AttemptsBefore int32 `json:",omitempty"`
	// Destination is the merchant's connected account (acct_…): the intent
	// becomes a destination charge settled on the merchant's behalf
	// (on_behalf_of), its money moved to that account at capture. Set by
	// the activity from the order's fee snapshot, never by the workflow.
	Destination string `json:",omitempty"`
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
	// Card is the payment method the intent charges, when Authorize was
	// asked to save it.
	Card *Card `json:"card,omitempty"`
}

// RefundRequest returns captured money. Step names the refund within the order
// ("cancel", or a merchant's request key) and goes into the idempotency key.
type RefundRequest struct {
	OrderID  string
	IntentID string
	Amount   int64 // minor units; must be > 0
	Reason   string
	Step     string
	// ReverseTransfer and RefundApplicationFee take the refund back from
	// the merchant's transfer and give back the platform fee in proportion
	// (destination charges only).
	// Set by the activity from the order's fee snapshot, never by the workflow.
	ReverseTransfer      bool `json:",omitempty"`
	RefundApplicationFee bool `json:",omitempty"`
	// Attempt numbers the caller's tries (Temporal's activity attempt,
	// from 1); it goes into the idempotency key of a create (see AttemptKey).
	Attempt int32
}

// Refund is what the checkout needs to know of a Stripe Refund.
type Refund struct {
	ID            string `json:"id"`
	Status        string `json:"status"` // one of the Refund… statuses
	Amount        int64  `json:"amount"`
	FailureReason string `json:"failure_reason,omitempty"`
	// ReversedMinor is what the refund took back from the merchant's
	// transfer, as Stripe reports its transfer reversal.
	ReversedMinor int64 `json:"reversed,omitempty"`
}

// Stripe Refund statuses.
const (
	RefundPending        = "pending"
	RefundRequiresAction = "requires_action"
	RefundSucceeded      = "succeeded"
	RefundFailed         = "failed"
	RefundCanceled       = "canceled"
)

// Metadata keys every object the checkout creates or changes at Stripe
// carries, so a later attempt can recognise its own work by reading Stripe.
const (
	MetadataOrderID       = "order_id"
	MetadataOperation     = "operation"      // authorize, capture, refund, customer
	MetadataRefundRequest = "refund_request" // a refund's RefundRequest.Step
)

// IdempotencyKey names one step of one order at Stripe. It carries no PII.
func IdempotencyKey(orderID, step string) string { return "order:" + orderID + ":" + step }

// AttemptKey is the idempotency key of one attempt at a step. Stripe keeps a
// key's answer for 24 hours, a 500 included, and then forgets it: a key
// reused across attempts replays a cached failure for a day, or, once
// pruned, acts a second time. So each attempt has its own key, and every
// attempt after the first reads Stripe's state before acting (retrieve-then-
// act): the key only deduplicates stripe-go's own retries of one request.
func AttemptKey(orderID, step string, attempt int32) string {
	if attempt < 1 {
		attempt = 1
	}
	return IdempotencyKey(orderID, step) + ":a" + strconv.Itoa(int(attempt))
}
