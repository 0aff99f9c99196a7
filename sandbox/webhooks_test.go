package sandbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/buybutton/checkout/sandbox"
)

const whsec = "whsec_sandbox_test"

// receiver is a merchant-side endpoint that verifies every delivery the way
// the checkout's webhook handler will.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	failNext int // answer 500 to this many deliveries first
	attempts int
	events   chan stripe.Event
}

func newReceiver(t *testing.T, failNext int) *receiver {
	rc := &receiver{t: t, failNext: failNext, events: make(chan stripe.Event, 64)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		ev, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), whsec)
		if err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), "whsec_other"); err == nil {
			t.Error("delivery verifies with the wrong secret")
		}
		rc.mu.Lock()
		rc.attempts++
		fail := rc.failNext > 0
		if fail {
			rc.failNext--
		}
		rc.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.events <- ev
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) next() stripe.Event {
	rc.t.Helper()
	select {
	case ev := <-rc.events:
		return ev
	case <-time.After(5 * time.Second):
		rc.t.Fatal("no webhook within 5s")
		return stripe.Event{}
	}
}

func TestWebhooks(t *testing.T) {
	cases := []struct {
		name  string
		run   func(t *testing.T, e *env)
		types []stripe.EventType
	}{
		{"authorize, capture, refund", func(t *testing.T, e *env) {
			pi := e.authorize(t, "ord_w", "pm_card_visa", 1000)
			if err := capture(e, pi.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(400)}); err != nil {
				t.Fatal(err)
			}
		}, []stripe.EventType{"payment_intent.amount_capturable_updated", "payment_intent.succeeded", "charge.refunded", "refund.created"}},
		{"cancel", func(t *testing.T, e *env) {
			pi := e.authorize(t, "ord_w", "pm_card_visa", 1000)
			if err := cancel(e, pi.ID); err != nil {
				t.Fatal(err)
			}
		}, []stripe.EventType{"payment_intent.amount_capturable_updated", "payment_intent.canceled"}},
		{"decline", func(t *testing.T, e *env) {
			_, _ = e.sc.PaymentIntents.New(authorizeParams("ord_w", "pm_card_chargeDeclined", 1000))
		}, []stripe.EventType{"payment_intent.payment_failed"}},
		{"3-D Secure", func(t *testing.T, e *env) {
			pi := e.authorize(t, "ord_w", "pm_card_authenticationRequired", 1000)
			if err := e.sb.Authenticate(pi.ID, true); err != nil {
				t.Fatal(err)
			}
		}, []stripe.EventType{"payment_intent.requires_action", "payment_intent.amount_capturable_updated"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, 0)
			e := newEnv(t, sandbox.Options{WebhookURL: rc.srv.URL, WebhookSecret: whsec})
			tc.run(t, e)
			for i, want := range tc.types {
				ev := rc.next()
				if ev.Type != want {
					t.Fatalf("event %d is %s, want %s", i, ev.Type, want)
				}
				if ev.Object != "event" || ev.APIVersion != stripe.APIVersion || ev.Livemode || ev.Data == nil {
					t.Fatalf("event %+v", ev)
				}
				switch ev.Data.Object["object"] {
				case "payment_intent":
					if ev.Data.Object["metadata"].(map[string]any)["order_id"] != "ord_w" {
						t.Fatalf("payment_intent in event lacks its order: %v", ev.Data.Object["metadata"])
					}
				case "charge":
					if ev.Data.Object["amount_refunded"] != float64(400) {
						t.Fatalf("charge.refunded shows amount_refunded %v", ev.Data.Object["amount_refunded"])
					}
				case "refund":
					if ev.Data.Object["amount"] != float64(400) || ev.Data.Object["status"] != "succeeded" {
						t.Fatalf("refund.created shows %v", ev.Data.Object)
					}
				default:
					t.Fatalf("event object %v", ev.Data.Object["object"])
				}
			}
			select {
			case ev := <-rc.events:
				t.Fatalf("unexpected extra event %s", ev.Type)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

func TestWebhookIsRetried(t *testing.T) {
	rc := newReceiver(t, 2)
	e := newEnv(t, sandbox.Options{WebhookURL: rc.srv.URL, WebhookSecret: whsec})
	pi := e.authorize(t, "ord_retry", "pm_card_visa", 1000)
	if err := capture(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	// Order survives the retries: the capture's event waits for the first.
	if ev := rc.next(); ev.Type != "payment_intent.amount_capturable_updated" {
		t.Fatalf("first delivered %s", ev.Type)
	}
	if ev := rc.next(); ev.Type != "payment_intent.succeeded" {
		t.Fatalf("second delivered %s", ev.Type)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.attempts != 4 {
		t.Fatalf("%d attempts, want 4 (two refused, two accepted)", rc.attempts)
	}
}

func TestSlowWebhookNeverBlocksTheAPI(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	e := newEnv(t, sandbox.Options{WebhookURL: slow.URL, WebhookSecret: whsec})
	start := time.Now()
	pi := e.authorize(t, "ord_slow", "pm_card_visa", 1000)
	if err := capture(e, pi.ID); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("API calls took %v behind a hanging webhook endpoint", d)
	}
	e.sb.Close() // must return although a delivery is in flight
}
