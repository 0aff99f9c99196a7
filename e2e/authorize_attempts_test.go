package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
)

// Authorize is retrieve-then-act with keys scoped to the attempt: a 500
// Stripe keeps under the first key (with or without the intent made), or
// an answer lost and the key then forgotten (Stripe prunes keys after 24
// hours), still ends in exactly one authorized intent, and the buyer's
// same Idempotency-Key answers it.
func TestAuthorizeAcrossCachedErrorsAndKeyPruningMakesOneIntent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		prune  bool
	}{
		{"cached 500, nothing done", sandbox.Faults{FailCachedNext: 1, Only: createPath}, false},
		{"cached 500, intent made", sandbox.Faults{FailCachedAfterNext: 1, Only: createPath}, false},
		{"answer lost, key pruned", sandbox.Faults{FailAfterNext: 1, Only: createPath}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, stackOptions{})
			productID := s.product(5, 1500)
			s.Sandbox.SetFaults(tc.faults)
			if tc.prune {
				// Between the attempts (a second apart): the first one's
				// answer is lost, then Stripe forgets its key.
				go func() {
					deadline := time.Now().Add(10 * time.Second)
					for s.Sandbox.Faults().FailAfterNext > 0 && time.Now().Before(deadline) {
						time.Sleep(5 * time.Millisecond)
					}
					time.Sleep(100 * time.Millisecond)
					s.Sandbox.ExpireIdempotencyKeys("")
				}()
			}
			buyer := s.buyer("buyer_attempts_" + randomHex(4))
			body := purchaseBody(productID, 1, "pm_card_visa")
			res := s.purchase(buyer, "key-attempts", body)
			orderID := res.str("order_id")
			o := s.waitSettled(orderID)
			if o.Status != models.StatusAuthorized {
				t.Fatalf("order %s (%s), want authorized; answer %s", o.Status, o.FailureCode, res.Raw)
			}
			if f := s.Sandbox.Faults(); f.FailCachedNext+f.FailCachedAfterNext+f.FailAfterNext != 0 {
				t.Fatalf("the fault was never met: %+v", f)
			}
			if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
				t.Fatalf("authorizations = %d, want exactly 1", got)
			}
			if pi := s.intentRecord(orderID); pi.Status != payments.IntentRequiresCapture || o.PaymentIntentID != pi.ID {
				t.Fatalf("order intent %q, sandbox %s in %s", o.PaymentIntentID, pi.ID, pi.Status)
			}
			again := s.purchase(buyer, "key-attempts", body)
			if again.Status != http.StatusCreated || again.str("order_id") != orderID || again.str("status") != "authorized" {
				t.Fatalf("the same key answered %d %s", again.Status, again.Raw)
			}
		})
	}
}
