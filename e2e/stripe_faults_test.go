package e2e

import (
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
)

// createPath is the PaymentIntent create: scoping faults to it loses
// authorize answers while the search and the cancel still reach the sandbox.
const createPath = "/v1/payment_intents"

// lostAnswerOptions give up on authorization after a few seconds and search
// for a lost one every half second or so, instead of production's minutes.
var lostAnswerOptions = stackOptions{authorizeTimeout: 3 * time.Second, authorizationSearchInterval: 500 * time.Millisecond}

// Stripe authorizes, its answer is lost (a 500 after the work), and every
// later attempt fails before reaching Stripe until the checkout gives up. The
// hold exists under an intent id the workflow never learnt: it must be found
// by the order, past the search index's lag, and voided.
func TestLostAuthorizationIsVoided(t *testing.T) {
	s := newStack(t, lostAnswerOptions)
	productID := s.product(5, 1500)
	s.Sandbox.SetFaults(sandbox.Faults{FailAfterNext: 1, Only: createPath})

	// As soon as the first attempt has done its work, the retries start
	// failing; the search index shows intents only after 2s. Should a retry
	// slip in first, it replays the success, which is also consistent and
	// checked below.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if len(s.Sandbox.Intents()) > 0 {
				s.Sandbox.SetFaults(sandbox.Faults{FailNext: 1000, Only: createPath, SearchLag: 2 * time.Second})
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res := s.purchase(s.buyer("buyer_lost_"+randomHex(4)), "key-lost", purchaseBody(productID, 2, "pm_card_visa"))
	close(stop)
	<-done
	orderID := res.str("order_id")
	if orderID == "" {
		t.Fatalf("purchase answer: %d %s", res.Status, res.Raw)
	}

	o := s.waitSettled(orderID)
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want exactly 1", got)
	}
	if got := len(s.Sandbox.Intents()); got != 1 {
		t.Fatalf("payment intents = %d, want 1", got)
	}
	pi := s.intentRecord(orderID)
	switch o.Status {
	case models.StatusPaymentFailed:
		s.waitWorkflowClosed(orderID)
		o = s.order(orderID)
		if pi = s.intentRecord(orderID); pi.Status != payments.IntentCanceled {
			t.Fatalf("order payment_failed but the intent is %s: a hold is left on the card", pi.Status)
		}
		if o.FailureCode != "payment_unavailable" || o.PaymentIntentID != pi.ID {
			t.Fatalf("order: failure %q intent %q, want payment_unavailable and %s", o.FailureCode, o.PaymentIntentID, pi.ID)
		}
		if got := s.stock(productID); got != 5 {
			t.Fatalf("stock = %d, want 5", got)
		}
		t.Logf("answer lost for good: the hold %s was found and voided", pi.ID)
	case models.StatusAuthorized:
		if pi.Status != payments.IntentRequiresCapture || o.PaymentIntentID != pi.ID {
			t.Fatalf("order authorized with intent %q, sandbox has %s in %s", o.PaymentIntentID, pi.ID, pi.Status)
		}
		if got := s.stock(productID); got != 3 {
			t.Fatalf("stock = %d, want 3", got)
		}
		t.Logf("a retry replayed the success before the faults changed")
	default:
		t.Fatalf("order ended %s (%s)", o.Status, o.FailureCode)
	}
}

// A lost answer followed by a working retry: Stripe's idempotency replays the
// authorization, so the order is authorized once and nothing is searched.
func TestLostAuthorizeAnswerIsReplayed(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1500)
	s.Sandbox.SetFaults(sandbox.Faults{FailAfterNext: 1, Only: createPath})

	res := s.purchase(s.buyer("buyer_replay_"+randomHex(4)), "key-replay", purchaseBody(productID, 1, "pm_card_visa"))
	orderID := res.str("order_id")
	o := s.waitSettled(orderID)
	if o.Status != models.StatusAuthorized {
		t.Fatalf("order %s (%s), want authorized; answer %s", o.Status, o.FailureCode, res.Raw)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want exactly 1", got)
	}
	if pi := s.intentRecord(orderID); pi.Status != payments.IntentRequiresCapture || o.PaymentIntentID != pi.ID {
		t.Fatalf("order intent %q, sandbox %s in %s", o.PaymentIntentID, pi.ID, pi.Status)
	}
}

// Every attempt fails before reaching Stripe: the searches find nothing, the
// order ends payment_failed and nothing is held.
func TestAuthorizationThatNeverHappenedIsNotVoided(t *testing.T) {
	s := newStack(t, lostAnswerOptions)
	productID := s.product(5, 1500)
	s.Sandbox.SetFaults(sandbox.Faults{FailNext: 1000, Only: createPath})

	res := s.purchase(s.buyer("buyer_none_"+randomHex(4)), "key-none", purchaseBody(productID, 1, "pm_card_visa"))
	orderID := res.str("order_id")
	if orderID == "" {
		t.Fatalf("purchase answer: %d %s", res.Status, res.Raw)
	}
	s.waitWorkflowClosed(orderID)
	o := s.order(orderID)
	if o.Status != models.StatusPaymentFailed || o.FailureCode != "payment_unavailable" || o.PaymentIntentID != "" {
		t.Fatalf("order %s failure %q intent %q, want payment_failed, payment_unavailable, no intent", o.Status, o.FailureCode, o.PaymentIntentID)
	}
	if got := len(s.Sandbox.Intents()); got != 0 {
		t.Fatalf("payment intents = %d, want 0", got)
	}
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock = %d, want 5", got)
	}
}

// waitSettled waits until the payment step has settled: the order is
// authorized or has ended.
func (s *stack) waitSettled(orderID string) models.Order {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var o models.Order
	for time.Now().Before(deadline) {
		o = s.order(orderID)
		if o.Status == models.StatusAuthorized || o.Status.Terminal() {
			return o
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("order %s still %s", orderID, o.Status)
	return o
}
