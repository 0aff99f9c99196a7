package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// A purchase's first workflow task validates, reserves and authorizes as
// local activities. When the card is declined, Stripe's webhook reaches the
// workflow while that task ends the order: the server refuses a task that
// completes a workflow with a signal arriving, and the retried task must not
// run the steps again on top of their undoing. Every declined buyer gets
// one 402 and the order ends payment_failed, its stock back and its
// workflow's view the same as the store's.
func TestDeclinedWhileStripeSignalsEndsOnce(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	productID := s.product(5, 1500)
	for i := range 5 {
		res := s.purchase(s.buyer("buyer_decline_"+randomHex(4)), "decline-"+randomHex(6),
			purchaseBody(productID, 1, "pm_card_chargeDeclined"))
		res.expect(http.StatusPaymentRequired)
		orderID := res.str("order_id")
		s.waitWorkflowClosed(orderID)
		if got := s.order(orderID).Status; got != models.StatusPaymentFailed {
			t.Fatalf("purchase %d: stored status %s, want payment_failed", i, got)
		}
		var final models.Order
		if err := s.Temporal.GetWorkflow(context.Background(), workflows.WorkflowID(orderID), "").Get(context.Background(), &final); err != nil {
			t.Fatal(err)
		}
		if final.Status != models.StatusPaymentFailed {
			t.Fatalf("purchase %d: the workflow ended %s, the store says payment_failed", i, final.Status)
		}
	}
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock %d after five declines, want 5", got)
	}
}
