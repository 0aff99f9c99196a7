package payments

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// errUnexpectedState is Stripe's code for an action the object's current
// status does not allow, such as capturing a canceled intent.
const errUnexpectedState = "payment_intent_unexpected_state"

// CodeAccountInvalid is Stripe's answer to a capture whose destination
// account cannot take the money.
const CodeAccountInvalid = "account_invalid"

// StripeFailure is what a domain error keeps of a *stripe.Error as its
// cause: codes, Stripe's message and ids. The *stripe.Error itself must not
// travel further: it holds the PaymentIntent (client_secret, the card's
// fingerprint, last 4 and expiry, billing details), and whatever carries the
// cause ends up in logs (the Temporal SDK logs failed activities with it)
// and in workflow histories.
type StripeFailure struct {
	Type        string
	Code        string
	DeclineCode string
	Message     string
	Param       string
	RequestID   string
	Status      int
	IntentID    string
	ChargeID    string
}

func (f *StripeFailure) Error() string {
	return fmt.Sprintf("stripe %s error (status %d, code %q, decline_code %q, param %q, request %s, payment_intent %s, charge %s): %s",
		f.Type, f.Status, f.Code, f.DeclineCode, f.Param, f.RequestID, f.IntentID, f.ChargeID, f.Message)
}

func scrubStripeError(se *stripe.Error) *StripeFailure {
	f := &StripeFailure{Type: string(se.Type), Code: string(se.Code), DeclineCode: string(se.DeclineCode),
		Message: se.Msg, Param: se.Param, RequestID: se.RequestID, Status: se.HTTPStatusCode, ChargeID: se.ChargeID}
	if se.PaymentIntent != nil {
		f.IntentID = se.PaymentIntent.ID
	}
	return f
}

// classify turns whatever stripe-go returned into a domain error whose kind
// tells the caller whether a retry can help (see failures.ToTemporal). The
// cause kept for logs is the scrubbed StripeFailure; Message is safe to show.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		// Transport failures, deadlines and bodies that are not Stripe JSON
		// (a proxy's 502 page) say nothing about the request itself.
		return &models.Error{Kind: models.KindUnavailable, Code: "stripe_unavailable",
			Message: "the payment provider could not be reached", Err: err}
	}
	cause := scrubStripeError(se)
	status := se.HTTPStatusCode
	switch {
	case se.Type == stripe.ErrorTypeCard:
		code := string(se.DeclineCode)
		if code == "" {
			code = string(se.Code)
		}
		if code == "" {
			code = "card_declined"
		}
		return &models.Error{Kind: models.KindPaymentDeclined, Code: code, Message: declineMessage(code), Err: cause}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Our key is wrong or lacks a permission: retrying cannot fix it.
		return &models.Error{Kind: models.KindInvalid, Code: "stripe_auth",
			Message: "the payment provider rejected our credentials", Err: cause}
	case se.Type == stripe.ErrorTypeIdempotency:
		return &models.Error{Kind: models.KindConflict, Code: "idempotency_conflict",
			Message: "this payment step was already sent with different parameters", Err: cause}
	case status == http.StatusConflict || status == http.StatusTooManyRequests ||
		status >= http.StatusInternalServerError || se.Type == stripe.ErrorTypeAPI:
		return &models.Error{Kind: models.KindUnavailable, Code: "stripe_unavailable",
			Message: "the payment provider is temporarily unavailable", Err: cause}
	case string(se.Code) == errUnexpectedState:
		return &models.Error{Kind: models.KindConflict, Code: errUnexpectedState,
			Message: "the payment is not in a state that allows this", Err: cause}
	case string(se.Code) == CodeAccountInvalid:
		// The merchant's connected account can no longer take this payment
		// (restricted, charges disabled): no retry changes that.
		return &models.Error{Kind: models.KindConflict, Code: CodeAccountInvalid,
			Message: "the merchant's payment account cannot accept this payment", Err: cause}
	case se.Code == stripe.ErrorCodeChargeDisputed:
		return &models.Error{Kind: models.KindConflict, Code: string(se.Code),
			Message: "the buyer's bank disputes this payment; it cannot be refunded now", Err: cause}
	case status >= 400 && status < 500:
		code := string(se.Code)
		if code == "" {
			code = "stripe_invalid_request"
		}
		return &models.Error{Kind: models.KindInvalid, Code: code,
			Message: "the payment provider rejected the request", Err: cause}
	default:
		return &models.Error{Kind: models.KindInternal, Code: "stripe_error",
			Message: "unexpected answer from the payment provider", Err: cause}
	}
}

// declineMessage is what a buyer may read. Issuers' detailed reasons
// (fraud suspicions, stolen cards) are deliberately folded into the generic one.
func declineMessage(code string) string {
	switch code {
	case "insufficient_funds":
		return "Your card has insufficient funds."
	case "expired_card":
		return "Your card has expired."
	case "incorrect_cvc", "invalid_cvc":
		return "Your card's security code is incorrect."
	case "incorrect_number", "invalid_number":
		return "Your card number is incorrect."
	case "processing_error":
		return "An error occurred while processing your card. Try again."
	default:
		return "Your card was declined."
	}
}

// retryable reports whether err is a transient failure, after which the
// outcome at Stripe is unknown and worth checking.
func retryable(err error) bool {
	return models.ErrorKind(err) == models.KindUnavailable
}
