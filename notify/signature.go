package notify

import (
	"errors"
	"time"

	"github.com/buybutton/checkout/checkoutwebhook"
	"github.com/buybutton/checkout/models"
)

// The signature scheme lives in package checkoutwebhook, the stdlib-only
// package merchants verify with: signing and verifying share one
// implementation, so the sender cannot drift from what merchants check.

// DefaultTolerance is how old (or how far in the future) a signed timestamp
// may be when Verify is given no tolerance.
const DefaultTolerance = checkoutwebhook.DefaultTolerance

// Sign returns the Checkout-Signature header value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	return checkoutwebhook.Sign(secret, t, body)
}

// Verify is checkoutwebhook.Verify with its failures as the domain's
// unauthorized error, for callers inside the service.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	err := checkoutwebhook.Verify(secret, header, body, tolerance, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, checkoutwebhook.ErrMalformedHeader):
		return badSignature("malformed signature header", err)
	case errors.Is(err, checkoutwebhook.ErrTooOld):
		return badSignature("signature timestamp outside tolerance", err)
	default:
		return badSignature("signature does not match", err)
	}
}

func badSignature(msg string, cause error) error {
	return &models.Error{Kind: models.KindUnauthorized, Code: "invalid_signature", Message: msg, Err: cause}
}
