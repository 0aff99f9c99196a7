package sandbox

import (
	_ "embed"
	"net/http"
)

// stripeJS is a stand-in for Stripe.js v3 covering what the checkout sheet
// uses: Stripe(pk), elements().create("card"), createPaymentMethod and
// handleNextAction. Its card form turns Stripe's test numbers into pm_ ids
// on this server, and its 3-D Secure challenge settles the PaymentIntent
// (and sends the signed webhook) as /_sandbox/…/authenticate does.
//
//go:embed stripe.js
var stripeJS []byte

// StripeJSPath is where the sandbox serves the stand-in, like js.stripe.com/v3.
const StripeJSPath = "/js/v3"

func serveStripeJS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(stripeJS)
}
