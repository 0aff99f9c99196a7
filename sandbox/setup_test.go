package sandbox_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/buybutton/checkout/sandbox"
)

const testKey = "sk_test_sandbox"

// env is a sandbox behind a real HTTP server and a stripe-go client on it.
type env struct {
	sb  *sandbox.Server
	srv *httptest.Server
	sc  *client.API
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	return &env{sb: sb, srv: srv, sc: stripeClient(srv, testKey)}
}

// stripeClient points stripe-go at the sandbox the way the gateway does: a
// per-client backend, and no retries of its own so each test sees one answer.
func stripeClient(srv *httptest.Server, key string) *client.API {
	return retryingStripeClient(srv, key, 0)
}

func retryingStripeClient(srv *httptest.Server, key string, retries int64) *client.API {
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(srv.URL),
		HTTPClient:        srv.Client(),
		MaxNetworkRetries: stripe.Int64(retries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	sc := &client.API{}
	sc.Init(key, &stripe.Backends{API: backend, Connect: backend, Uploads: backend})
	return sc
}

// authorizeParams is what the gateway sends to hold money for an order.
func authorizeParams(orderID, pm string, amount int64) *stripe.PaymentIntentParams {
	p := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(amount),
		Currency:           stripe.String("usd"),
		PaymentMethod:      stripe.String(pm),
		Confirm:            stripe.Bool(true),
		CaptureMethod:      stripe.String("manual"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
	}
	p.AddMetadata("order_id", orderID)
	p.SetIdempotencyKey("order:" + orderID + ":authorize")
	return p
}

func (e *env) authorize(t *testing.T, orderID, pm string, amount int64) *stripe.PaymentIntent {
	t.Helper()
	pi, err := e.sc.PaymentIntents.New(authorizeParams(orderID, pm, amount))
	if err != nil {
		t.Fatalf("authorize %s with %s: %v", orderID, pm, err)
	}
	return pi
}

func stripeErr(t *testing.T, err error) *stripe.Error {
	t.Helper()
	var se *stripe.Error
	if !errors.As(err, &se) {
		t.Fatalf("want *stripe.Error, got %T: %v", err, err)
	}
	return se
}

func wantStripeErr(t *testing.T, err error, status int, typ stripe.ErrorType, code stripe.ErrorCode) *stripe.Error {
	t.Helper()
	se := stripeErr(t, err)
	if se.HTTPStatusCode != status || se.Type != typ || se.Code != code {
		t.Fatalf("want %d %s %s, got %d %s %s (%s)", status, typ, code, se.HTTPStatusCode, se.Type, se.Code, se.Msg)
	}
	if se.RequestID == "" {
		t.Errorf("error carries no request id")
	}
	return se
}
