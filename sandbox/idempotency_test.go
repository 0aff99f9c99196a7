package sandbox_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/sandbox"
)

func TestIdempotentReplay(t *testing.T) {
	cases := []struct {
		name      string
		pm        string
		wantError bool
	}{
		{"authorized", "pm_card_visa", false},
		{"declined", "pm_card_chargeDeclined", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			first, err1 := e.sc.PaymentIntents.New(authorizeParams("ord_i", tc.pm, 1000))
			second, err2 := e.sc.PaymentIntents.New(authorizeParams("ord_i", tc.pm, 1000))
			if (err1 != nil) != tc.wantError || (err2 != nil) != tc.wantError {
				t.Fatalf("errors: %v / %v", err1, err2)
			}
			var firstID, secondID string
			var replayed string
			if tc.wantError {
				se1, se2 := stripeErr(t, err1), stripeErr(t, err2)
				firstID, secondID = se1.PaymentIntent.ID, se2.PaymentIntent.ID
				replayed = se2.LastResponse.Header.Get("Idempotent-Replayed")
				if se2.HTTPStatusCode != se1.HTTPStatusCode || se2.DeclineCode != se1.DeclineCode {
					t.Fatalf("replayed error differs: %d %s vs %d %s", se1.HTTPStatusCode, se1.DeclineCode, se2.HTTPStatusCode, se2.DeclineCode)
				}
			} else {
				firstID, secondID = first.ID, second.ID
				replayed = second.LastResponse.Header.Get("Idempotent-Replayed")
				if string(first.LastResponse.RawJSON) != string(second.LastResponse.RawJSON) {
					t.Fatal("replayed body differs from the first answer")
				}
			}
			if firstID != secondID {
				t.Fatalf("replay created another intent: %s vs %s", firstID, secondID)
			}
			if replayed != "true" {
				t.Fatalf("Idempotent-Replayed = %q", replayed)
			}
			if n := len(e.sb.Intents()); n != 1 {
				t.Fatalf("%d intents, want 1", n)
			}
			if n := e.sb.AuthorizationsFor("ord_i"); n > 1 {
				t.Fatalf("AuthorizationsFor = %d", n)
			}
		})
	}
}

func TestIdempotencyKeyWithOtherParamsIsRefused(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.authorize(t, "ord_k", "pm_card_visa", 1000)
	p := authorizeParams("ord_k", "pm_card_visa", 2000)
	_, err := e.sc.PaymentIntents.New(p)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeIdempotency, "")

	// Same key on another endpoint is refused too.
	cp := &stripe.PaymentIntentCaptureParams{}
	cp.SetIdempotencyKey("order:ord_k:authorize")
	_, err = e.sc.PaymentIntents.Capture(e.sb.Intents()[0].ID, cp)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeIdempotency, "")
	if n := len(e.sb.Intents()); n != 1 {
		t.Fatalf("%d intents, want 1", n)
	}
}

func TestIdempotencyKeysAreScopedPerAPIKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	other := stripeClient(e.srv, "sk_test_other_account")
	a := e.authorize(t, "ord_s", "pm_card_visa", 1000)
	b, err := other.PaymentIntents.New(authorizeParams("ord_s", "pm_card_visa", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || b.LastResponse.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a key of one API key was replayed for another")
	}
}

func TestConcurrentRequestsWithOneKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetFaults(sandbox.Faults{Latency: 300 * time.Millisecond})
	form := url.Values{
		"amount": {"1000"}, "currency": {"usd"}, "confirm": {"true"}, "capture_method": {"manual"},
		"payment_method": {"pm_card_visa"}, "payment_method_types[0]": {"card"}, "metadata[order_id]": {"ord_cc"},
	}.Encode()
	statuses := make([]int, 2)
	bodies := make([]string, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(50 * time.Millisecond) // let the first claim the key
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/payment_intents", strings.NewReader(form))
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Idempotency-Key", "order:ord_cc:authorize")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			statuses[i], bodies[i] = resp.StatusCode, string(b)
		}()
	}
	wg.Wait()
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict ||
		!strings.Contains(bodies[1], `"code": "idempotency_key_in_use"`) || !strings.Contains(bodies[1], `"type": "invalid_request_error"`) {
		t.Fatalf("statuses %v, second body %s", statuses, bodies[1])
	}
	if n := e.sb.AuthorizationsFor("ord_cc"); n != 1 {
		t.Fatalf("AuthorizationsFor = %d", n)
	}
}

func TestStripeGoRetriesAKeyInUse(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetFaults(sandbox.Faults{Latency: 200 * time.Millisecond})
	retrying := retryingStripeClient(e.srv, testKey, 2)
	ids := make([]string, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(50 * time.Millisecond)
			}
			pi, err := retrying.PaymentIntents.New(authorizeParams("ord_lock", "pm_card_visa", 1000))
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = pi.ID
		}()
	}
	wg.Wait()
	if ids[0] == "" || ids[0] != ids[1] || e.sb.AuthorizationsFor("ord_lock") != 1 {
		t.Fatalf("ids %v, authorizations %d", ids, e.sb.AuthorizationsFor("ord_lock"))
	}
}

// Stripe keeps the answer of a request whose execution began, a 500
// included, and replays it under the same key; only another key tries again.
func TestCachedServerErrorIsReplayed(t *testing.T) {
	cases := []struct {
		name       string
		faults     sandbox.Faults
		wantStatus string // the intent's status behind the cached 500
	}{
		{"failed before the work", sandbox.Faults{FailCachedNext: 1}, "requires_capture"},
		{"failed after the work", sandbox.Faults{FailCachedAfterNext: 1}, "succeeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			pi := e.authorize(t, "ord_c5", "pm_card_visa", 1000)
			e.sb.SetFaults(tc.faults)
			capture := func(key string) (*stripe.PaymentIntent, error) {
				p := &stripe.PaymentIntentCaptureParams{}
				p.SetIdempotencyKey(key)
				return e.sc.PaymentIntents.Capture(pi.ID, p)
			}
			_, err := capture("order:ord_c5:capture")
			first := wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")
			_, err = capture("order:ord_c5:capture")
			again := wantStripeErr(t, err, http.StatusInternalServerError, stripe.ErrorTypeAPI, "")
			if again.LastResponse.Header.Get("Idempotent-Replayed") != "true" || again.LastResponse.Header.Get("Original-Request") != first.RequestID {
				t.Fatalf("the 500 was not replayed: headers %v", again.LastResponse.Header)
			}
			if got := e.sb.Intents()[0].Status; got != tc.wantStatus {
				t.Fatalf("intent %s, want %s", got, tc.wantStatus)
			}
			// A new key executes afresh.
			got, err := capture("order:ord_c5:capture:a2")
			if tc.wantStatus == "succeeded" {
				wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodePaymentIntentUnexpectedState)
				return
			}
			if err != nil || got.Status != "succeeded" {
				t.Fatalf("capture under a new key: %v %v", got, err)
			}
		})
	}
}

// Requests refused before execution (unknown or invalid parameters) keep
// nothing under their key: the corrected request under the same key runs.
func TestRefusedRequestKeepsNoAnswer(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	bad := authorizeParams("ord_v", "pm_card_visa", 1000)
	bad.AddExtra("not_a_param", "x")
	_, err := e.sc.PaymentIntents.New(bad)
	wantStripeErr(t, err, http.StatusBadRequest, stripe.ErrorTypeInvalidRequest, "parameter_unknown")
	if _, err := e.sc.PaymentIntents.New(authorizeParams("ord_v", "pm_card_visa", 1000)); err != nil {
		t.Fatalf("the corrected request was refused: %v", err)
	}
	// A refusal after execution began (the card declined) is kept.
	_, err = e.sc.PaymentIntents.New(authorizeParams("ord_v2", "pm_card_chargeDeclined", 1000))
	stripeErr(t, err)
	_, err = e.sc.PaymentIntents.New(authorizeParams("ord_v2", "pm_card_chargeDeclined", 1000))
	if se := stripeErr(t, err); se.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a decline was not replayed")
	}
}

func TestExpiringIdempotencyKeys(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.authorize(t, "ord_x1", "pm_card_visa", 1000)
	e.authorize(t, "ord_x2", "pm_card_visa", 1000)

	if n := e.sb.ExpireIdempotencyKeys("order:ord_x1:"); n != 1 {
		t.Fatalf("expired %d keys, want 1", n)
	}
	// ord_x1's key is forgotten: the same key runs again (a second intent);
	// ord_x2's is kept and still replays.
	e.authorize(t, "ord_x1", "pm_card_visa", 1000)
	again := e.authorize(t, "ord_x2", "pm_card_visa", 1000)
	if again.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a key outside the prefix was forgotten")
	}
	if n := e.sb.AuthorizationsFor("ord_x1"); n != 2 {
		t.Fatalf("ord_x1 authorized %d times, want 2 after its key was pruned", n)
	}

	// Through the control route, every key.
	res, err := http.Post(e.srv.URL+"/_sandbox/idempotency_keys/expire", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "{\n  \"expired\": 2\n}" {
		t.Fatalf("expire answered %d %s", res.StatusCode, body)
	}
}

// Options.Now past 24 hours prunes a key as Stripe does.
func TestIdempotencyKeyLivesADay(t *testing.T) {
	start := time.Now()
	var later atomic.Int64 // nanoseconds past start
	e := newEnv(t, sandbox.Options{Now: func() time.Time { return start.Add(time.Duration(later.Load())) }})
	e.authorize(t, "ord_day", "pm_card_visa", 1000)
	later.Add(int64(23 * time.Hour))
	if r := e.authorize(t, "ord_day", "pm_card_visa", 1000); r.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("key forgotten within a day")
	}
	later.Add(int64(2 * time.Hour))
	e.authorize(t, "ord_day", "pm_card_visa", 1000)
	if n := e.sb.AuthorizationsFor("ord_day"); n != 2 {
		t.Fatalf("authorizations = %d, want 2 once the key is a day old", n)
	}
}
