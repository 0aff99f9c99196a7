package sandbox_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
