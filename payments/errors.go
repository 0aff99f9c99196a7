package payments

import (
	"errors"
	"net/http"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// errUnexpectedState is Stripe's code for an action the object's current
// status does not allow, such as capturing a canceled intent.
const errUnexpectedState = "payment_intent_unexpected_state"

// classify turns whatever stripe-go returned into a domain error whose kind
// tells the caller whether a retry can help (see failures.ToTemporal). The
// original error stays as the cause for logs; Message is safe to show.
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
		return &models.Error{Kind: models.KindPaymentDeclined, Code: code, Message: declineMessage(code), Err: err}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Our key is wrong or lacks a permission: retrying cannot fix it.
		return &models.Error{Kind: models.KindInvalid, Code: "stripe_auth",
			Message: "the payment provider rejected our credentials", Err: err}
	case se.Type == stripe.ErrorTypeIdempotency:
		return &models.Error{Kind: models.KindConflict, Code: "idempotency_conflict",
			Message: "this payment step was already sent with different parameters", Err: err}
	case status == http.StatusConflict || status == http.StatusTooManyRequests ||
		status >= http.StatusInternalServerError || se.Type == stripe.ErrorTypeAPI:
		return &models.Error{Kind: models.KindUnavailable, Code: "stripe_unavailable",
			Message: "the payment provider is temporarily unavailable", Err: err}
	case string(se.Code) == errUnexpectedState:
		return &models.Error{Kind: models.KindConflict, Code: errUnexpectedState,
			Message: "the payment is not in a state that allows this", Err: err}
	case se.Code == stripe.ErrorCodeChargeDisputed:
		return &models.Error{Kind: models.KindConflict, Code: string(se.Code),
			Message: "the buyer's bank disputes this payment; it cannot be refunded now", Err: err}
	case status >= 400 && status < 500:
		code := string(se.Code)
		if code == "" {
			code = "stripe_invalid_request"
		}
		return &models.Error{Kind: models.KindInvalid, Code: code,
			Message: "the payment provider rejected the request", Err: err}
	default:
		return &models.Error{Kind: models.KindInternal, Code: "stripe_error",
			Message: "unexpected answer from the payment provider", Err: err}
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
