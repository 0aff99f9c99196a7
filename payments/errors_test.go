package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		kind     models.Kind
		code     string
		retrying bool
	}{
		{"decline with decline code", &stripe.Error{Type: stripe.ErrorTypeCard, HTTPStatusCode: 402, Code: "card_declined", DeclineCode: "insufficient_funds"},
			models.KindPaymentDeclined, "insufficient_funds", false},
		{"decline without decline code", &stripe.Error{Type: stripe.ErrorTypeCard, HTTPStatusCode: 402, Code: "expired_card"},
			models.KindPaymentDeclined, "expired_card", false},
		{"decline with no code at all", &stripe.Error{Type: stripe.ErrorTypeCard, HTTPStatusCode: 402},
			models.KindPaymentDeclined, "card_declined", false},
		{"bad parameter", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 400, Code: "parameter_invalid_integer"},
			models.KindInvalid, "parameter_invalid_integer", false},
		{"missing object", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 404, Code: "resource_missing"},
			models.KindInvalid, "resource_missing", false},
		{"invalid without code", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 400},
			models.KindInvalid, "stripe_invalid_request", false},
		{"wrong state", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 400, Code: errUnexpectedState},
			models.KindConflict, errUnexpectedState, false},
		{"idempotency key reused", &stripe.Error{Type: stripe.ErrorTypeIdempotency, HTTPStatusCode: 400},
			models.KindConflict, "idempotency_conflict", false},
		{"bad key", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 401},
			models.KindInvalid, "stripe_auth", false},
		{"restricted key", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 403},
			models.KindInvalid, "stripe_auth", false},
		{"lock conflict", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 409, Code: "lock_timeout"},
			models.KindUnavailable, "stripe_unavailable", true},
		{"rate limited", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, HTTPStatusCode: 429, Code: "rate_limit"},
			models.KindUnavailable, "stripe_unavailable", true},
		{"server error", &stripe.Error{Type: stripe.ErrorTypeAPI, HTTPStatusCode: 500},
			models.KindUnavailable, "stripe_unavailable", true},
		{"api error on odd status", &stripe.Error{Type: stripe.ErrorTypeAPI, HTTPStatusCode: 400},
			models.KindUnavailable, "stripe_unavailable", true},
		{"network", &url.Error{Op: "Post", URL: "https://api.stripe.com", Err: errors.New("connection reset")},
			models.KindUnavailable, "stripe_unavailable", true},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded),
			models.KindUnavailable, "stripe_unavailable", true},
		{"undecodable body", errors.New("Couldn't deserialize JSON (response status: 502)"),
			models.KindUnavailable, "stripe_unavailable", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			var e *models.Error
			if !errors.As(got, &e) {
				t.Fatalf("classify returned %T, want *models.Error", got)
			}
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got kind %q code %q, want %q %q", e.Kind, e.Code, tc.kind, tc.code)
			}
			if retryable(got) != tc.retrying {
				t.Errorf("retryable = %v, want %v", retryable(got), tc.retrying)
			}
			var se *stripe.Error
			if errors.As(tc.err, &se) {
				var f *StripeFailure
				if errors.As(got, &se) || !errors.As(got, &f) || f.Code != string(se.Code) || f.Status != se.HTTPStatusCode {
					t.Errorf("cause is not the scrubbed Stripe failure: %#v", got)
				}
			} else if !errors.Is(got, tc.err) {
				t.Errorf("cause lost: %v", got)
			}
			if e.Message == "" {
				t.Error("empty message")
			}
		})
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

// A decline's error carries codes, message and ids, never the intent Stripe
// attaches (client_secret, card fingerprint, last 4, expiry, billing details).
func TestClassifiedDeclineCarriesNoCardData(t *testing.T) {
	pi := &stripe.PaymentIntent{ID: "pi_123", ClientSecret: "pi_123_secret_abcdef",
		PaymentMethod: &stripe.PaymentMethod{ID: "pm_1",
			BillingDetails: &stripe.PaymentMethodBillingDetails{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+44 20 7946 0000",
				Address: &stripe.Address{Line1: "12 St James Square", PostalCode: "SW1Y 4JH"}},
			Card: &stripe.PaymentMethodCard{Fingerprint: "fpXyZ123", Last4: "0002", ExpMonth: 12, ExpYear: 2034}}}
	err := classify(&stripe.Error{Type: stripe.ErrorTypeCard, HTTPStatusCode: 402, Code: "card_declined", DeclineCode: "generic_decline",
		Msg: "Your card was declined.", RequestID: "req_1", PaymentIntent: pi, ChargeID: "ch_1"})
	text := fmt.Sprintf("%v %+v %#v", err, err, errors.Unwrap(err))
	for _, secret := range []string{"pi_123_secret", "fpXyZ123", "0002", "2034", "Ada", "ada@example.com", "7946", "St James", "SW1Y"} {
		if strings.Contains(text, secret) {
			t.Errorf("classified error shows %q: %s", secret, text)
		}
	}
	for _, keep := range []string{"generic_decline", "card_declined", "pi_123", "ch_1", "req_1"} {
		if !strings.Contains(text, keep) {
			t.Errorf("classified error lost %q: %s", keep, text)
		}
	}
}

func TestDeclineMessageIsBuyerSafe(t *testing.T) {
	err := classify(&stripe.Error{Type: stripe.ErrorTypeCard, HTTPStatusCode: 402, Code: "card_declined",
		DeclineCode: "stolen_card", Msg: "Your card was reported stolen."})
	var e *models.Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if e.Code != "stolen_card" || e.Message != "Your card was declined." {
		t.Errorf("got code %q message %q", e.Code, e.Message)
	}
}

// TestErrorsOverHTTP checks that real Stripe error bodies, decoded by
// stripe-go, classify as expected and carry the right idempotency key.
func TestErrorsOverHTTP(t *testing.T) {
	cases := []struct {
		name  string
		reply reply
		kind  models.Kind
		code  string
	}{
		{"402 card_error", reply{status: 402, body: stripeErrJSON("card_error", "card_declined", "insufficient_funds")},
			models.KindPaymentDeclined, "insufficient_funds"},
		{"400 invalid_request_error", reply{status: 400, body: stripeErrJSON("invalid_request_error", "parameter_unknown", "")},
			models.KindInvalid, "parameter_unknown"},
		{"400 idempotency_error", reply{status: 400, body: stripeErrJSON("idempotency_error", "", "")},
			models.KindConflict, "idempotency_conflict"},
		{"401", reply{status: 401, body: stripeErrJSON("invalid_request_error", "", "")},
			models.KindInvalid, "stripe_auth"},
		{"409", reply{status: 409, body: stripeErrJSON("invalid_request_error", "lock_timeout", "")},
			models.KindUnavailable, "stripe_unavailable"},
		{"429", reply{status: 429, body: stripeErrJSON("invalid_request_error", "rate_limit", "")},
			models.KindUnavailable, "stripe_unavailable"},
		{"500 api_error", reply{status: 500, body: stripeErrJSON("api_error", "", "")},
			models.KindUnavailable, "stripe_unavailable"},
		{"502 html page", reply{status: 502, body: "<html>bad gateway</html>"},
			models.KindUnavailable, "stripe_unavailable"},
		{"closed connection", reply{hangup: true},
			models.KindUnavailable, "stripe_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on("POST /v1/payment_intents", tc.reply)
			_, err := g.Authorize(context.Background(), authReq("o1"))
			var e *models.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want *models.Error", err)
			}
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got %q/%q, want %q/%q (%v)", e.Kind, e.Code, tc.kind, tc.code, err)
			}
			// A Stripe answer is kept as its scrubbed form, never the
			// *stripe.Error (which carries the intent).
			var se *stripe.Error
			var sf *StripeFailure
			if errors.As(err, &se) {
				t.Errorf("the *stripe.Error itself is kept as the cause: %v", err)
			}
			if wantStripe := !tc.reply.hangup && tc.reply.status != 502; errors.As(err, &sf) != wantStripe {
				t.Errorf("scrubbed Stripe failure kept as cause = %v, want %v", !wantStripe, wantStripe)
			}
			reqs := f.requests("POST /v1/payment_intents")
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (retries are off)", len(reqs))
			}
			if reqs[0].key != "order:o1:authorize:a1" {
				t.Errorf("Idempotency-Key = %q", reqs[0].key)
			}
		})
	}
}

func authReq(orderID string) AuthorizeRequest {
	return AuthorizeRequest{OrderID: orderID, Amount: models.Money{Amount: 1500, Currency: "USD"},
		PaymentMethod: "pm_card_visa", Description: "2 × Mug"}
}
