package sandbox_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestFailNextDoesNothing(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetFaults(sandbox.Faults{FailNext: 1})
	_, err := e.sc.PaymentIntents.New(authorizeParams("ord_f", "pm_card_visa", 1000))
	wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")
	if n := len(e.sb.Intents()); n != 0 {
		t.Fatalf("FailNext created %d intents", n)
	}
	// 500s are not remembered: the same key now does the work.
	pi := e.authorize(t, "ord_f", "pm_card_visa", 1000)
	if pi.LastResponse.Header.Get("Idempotent-Replayed") != "" || pi.Status != stripe.PaymentIntentStatusRequiresCapture {
		t.Fatalf("retry after 500: status %s replayed %q", pi.Status, pi.LastResponse.Header.Get("Idempotent-Replayed"))
	}
}

func TestFailAfterNextDoesTheWork(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_fa", "pm_card_visa", 1000)
	e.sb.SetFaults(sandbox.Faults{FailAfterNext: 1})
	cp := &stripe.PaymentIntentCaptureParams{}
	cp.SetIdempotencyKey("order:ord_fa:capture")
	_, err := e.sc.PaymentIntents.Capture(pi.ID, cp)
	wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")

	got, err := e.sc.PaymentIntents.Get(pi.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != stripe.PaymentIntentStatusSucceeded {
		t.Fatalf("capture answered 500 but status is %s", got.Status)
	}
	// The work was committed, so a retry with the key replays the success.
	retried, err := e.sc.PaymentIntents.Capture(pi.ID, cp)
	if err != nil {
		t.Fatal(err)
	}
	if retried.Status != stripe.PaymentIntentStatusSucceeded || retried.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: status %s replayed %q", retried.Status, retried.LastResponse.Header.Get("Idempotent-Replayed"))
	}
	if got := e.sb.Faults(); got.FailAfterNext != 0 {
		t.Fatalf("FailAfterNext not consumed: %+v", got)
	}
}

func TestDropNextClosesTheConnection(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetFaults(sandbox.Faults{DropNext: 1})
	_, err := e.sc.PaymentIntents.New(authorizeParams("ord_drop", "pm_card_visa", 1000))
	var se *stripe.Error
	if err == nil || errors.As(err, &se) {
		t.Fatalf("want a network error, got %v", err)
	}
	if n := len(e.sb.Intents()); n != 0 {
		t.Fatalf("dropped request created %d intents", n)
	}
	e.authorize(t, "ord_drop", "pm_card_visa", 1000)
}

func TestErrorRateAndLatency(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	pi := e.authorize(t, "ord_er", "pm_card_visa", 1000)

	e.sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	_, err := e.sc.PaymentIntents.Get(pi.ID, nil)
	wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")

	e.sb.SetFaults(sandbox.Faults{Latency: 150 * time.Millisecond})
	start := time.Now()
	if _, err := e.sc.PaymentIntents.Get(pi.ID, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered after %v despite 150ms latency", d)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	status, body := controlCall(t, e, http.MethodPost, "/_sandbox/faults", `{"fail_next":2,"latency_ms":20,"drop_next":1,"fail_after_next":3,"error_rate":0.5}`)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	want := sandbox.Faults{FailNext: 2, Latency: 20 * time.Millisecond, DropNext: 1, FailAfterNext: 3, ErrorRate: 0.5}
	if got := e.sb.Faults(); got != want {
		t.Fatalf("faults %+v, want %+v", got, want)
	}
	if status, body := controlCall(t, e, http.MethodPost, "/_sandbox/faults", `{"error_rate":2}`); status != http.StatusBadRequest {
		t.Fatalf("error_rate 2 accepted: %d %s", status, body)
	}
	status, body = controlCall(t, e, http.MethodDelete, "/_sandbox/faults", "")
	if status != http.StatusOK || !strings.Contains(body, `"fail_next": 0`) {
		t.Fatalf("%d %s", status, body)
	}
	if got := e.sb.Faults(); got != (sandbox.Faults{}) {
		t.Fatalf("faults after reset %+v", got)
	}
}

func TestStripeGoRetryAfterDropReusesTheKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	sc := retryingStripeClient(e.srv, testKey, 1)

	e.sb.SetFaults(sandbox.Faults{FailAfterNext: 1})
	if _, err := sc.PaymentIntents.New(authorizeParams("ord_rt", "pm_card_visa", 1000)); err == nil {
		t.Fatal("FailAfterNext answered success")
	}
	e.sb.SetFaults(sandbox.Faults{DropNext: 1})
	pi, err := sc.PaymentIntents.New(authorizeParams("ord_rt", "pm_card_visa", 1000))
	if err != nil {
		t.Fatalf("retry after dropped connection: %v", err)
	}
	if pi.LastResponse.Header.Get("Idempotent-Replayed") != "true" || pi.Status != stripe.PaymentIntentStatusRequiresCapture {
		t.Fatalf("status %s replayed %q", pi.Status, pi.LastResponse.Header.Get("Idempotent-Replayed"))
	}
	if n := e.sb.AuthorizationsFor("ord_rt"); n != 1 {
		t.Fatalf("AuthorizationsFor = %d, want 1", n)
	}
}
