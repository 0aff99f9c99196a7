package sandbox_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestAuthentication(t *testing.T) {
	cases := []struct {
		name   string
		header string
	}{
		{"missing", ""},
		{"garbage", "Bearer nope"},
		{"live key", "Bearer sk_live_abc"},
		{"publishable key on a secret route", "Bearer pk_test_abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/payment_intents/pi_x", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			status, body, hdr := do(t, req)
			if status != http.StatusUnauthorized || !strings.Contains(body, `"invalid_request_error"`) || hdr.Get("Request-Id") == "" {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
}

func TestUnknownRoutesAndIDs(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/subscriptions", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	status, body, _ := do(t, req)
	if status != http.StatusNotFound || !strings.Contains(body, "Unrecognized request URL") {
		t.Fatalf("%d %s", status, body)
	}
	_, err := e.sc.PaymentIntents.Get("pi_missing", nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
	_, err = e.sc.PaymentIntents.Capture("pi_missing", nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
	_, err = e.sc.PaymentMethods.Get("pm_missing", nil)
	wantStripeErr(t, err, http.StatusNotFound, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing)
}

func TestPublishableKeyCreatesPaymentMethods(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pk := stripeClient(e.srv, "pk_test_widget")
	pm, err := pk.PaymentMethods.New(cardParams("4242424242424242"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pk.PaymentMethods.Get(pm.ID, nil)
	wantStripeErr(t, err, http.StatusUnauthorized, stripe.ErrorTypeInvalidRequest, "")
	e.authorize(t, "ord_pk", pm.ID, 1000)
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func controlCall(t *testing.T, e *env, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	status, b, _ := do(t, req)
	return status, b
}
