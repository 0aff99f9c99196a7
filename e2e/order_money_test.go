package e2e

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/workflows"
)

// Stripe refuses every void while the merchant rejects: the reject answers
// at once, the stock is back at once, and the void lands when Stripe
// returns, without anyone asking again.
func TestRejectWhileStripeIsDownAnswersAtOnceAndVoidsLater(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(3, 1500)
	orderID := s.authorizedOrder(productID, "buyer_reject_down_"+randomHex(4))
	intentID := s.order(orderID).PaymentIntentID

	s.Sandbox.SetFaults(sandbox.Faults{FailNext: 1000, Only: "/v1/payment_intents/" + intentID + "/cancel"})
	started := time.Now()
	res := s.merchantAction(orderID, "reject", map[string]any{"reason": "cannot ship"}).expect(http.StatusOK)
	if res.str("status") != string(models.StatusRejected) {
		t.Fatalf("reject answered %s", res.Raw)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("reject took %s while Stripe was down; it must not wait for the void", took)
	}
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock = %d right after the reject, want 3", got)
	}
	time.Sleep(3 * time.Second) // several failed void attempts
	if pi := s.intentRecord(orderID); pi.Status != payments.IntentRequiresCapture {
		t.Fatalf("intent %s while Stripe refused every cancel", pi.Status)
	}
	s.Sandbox.SetFaults(sandbox.Faults{})
	deadline := time.Now().Add(45 * time.Second)
	for s.intentRecord(orderID).Status != payments.IntentCanceled {
		if time.Now().After(deadline) {
			t.Fatal("the authorization was never voided once Stripe was back")
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.waitWorkflowClosed(orderID)
	if o := s.order(orderID); o.Status != models.StatusRejected {
		t.Fatalf("order %s, want rejected", o.Status)
	}
}

// A void Stripe can never do (someone captured the intent behind the
// order's back) puts the order in needs_attention, listed for operators;
// an operator resolves it and the order is rejected again.
func TestVoidThatCannotSucceedIsListedForOperators(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(3, 1500)
	orderID := s.authorizedOrder(productID, "buyer_attention_"+randomHex(4))
	o := s.order(orderID)
	gw := payments.New(payments.Config{SecretKey: "sk_test_e2e", APIBase: s.sandboxURL})
	if _, err := gw.Capture(context.Background(), orderID, o.PaymentIntentID, 1); err != nil {
		t.Fatalf("capture behind the order's back: %v", err)
	}

	s.merchantAction(orderID, "reject", map[string]any{"reason": "cannot ship"}).expect(http.StatusOK)
	s.waitStatus(orderID, models.StatusNeedsAttention)
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock = %d, want 3: the stock goes back whatever happens to the money", got)
	}
	list := s.do("GET", "/v1/admin/orders/needs-attention", e2eOperatorToken, nil, nil).expect(http.StatusOK)
	if !listHasOrder(list, orderID) {
		t.Fatalf("needs-attention list lacks %s: %s", orderID, list.Raw)
	}
	s.do("GET", "/v1/admin/orders/needs-attention", s.MerchantKey, nil, nil).expect(http.StatusUnauthorized)
	s.expectQueryFinds(`OrderStatus = "needs_attention"`, workflows.WorkflowID(orderID))

	res := s.do("POST", "/v1/admin/orders/"+orderID+"/resolve", e2eOperatorToken, nil,
		map[string]any{"action": "resolved", "note": "refunded by hand"}).expect(http.StatusOK)
	if res.str("status") != string(models.StatusRejected) {
		t.Fatalf("resolve answered %s", res.Raw)
	}
	s.waitWorkflowClosed(orderID)
	again := s.do("POST", "/v1/admin/orders/"+orderID+"/resolve", e2eOperatorToken, nil, map[string]any{"action": "retry"})
	if again.Status != http.StatusConflict {
		t.Fatalf("resolving a settled order answered %d %s, want 409", again.Status, again.Raw)
	}
}

// The merchant's endpoint is down while the buyer cancels: the merchant
// receives order.created then order.cancelled, or only order.cancelled,
// never the reverse, with rising sequence numbers.
func TestMerchantEventsArriveInOrderAcrossAnOutage(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 6)
	s.setWebhook(hook)
	productID := s.product(3, 1500)
	buyer := "buyer_order_events_" + randomHex(4)
	orderID := s.authorizedOrder(productID, buyer)
	s.do("POST", "/v1/orders/"+orderID+"/cancel", s.buyer(buyer), nil, map[string]any{"reason": "changed my mind"}).
		expect(http.StatusOK)

	s.waitDelivery(orderID, "order.cancelled", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })
	s.waitWorkflowClosed(orderID)
	time.Sleep(time.Second) // anything still in flight would arrive now
	hook.mu.Lock()
	defer hook.mu.Unlock()
	var types []string
	last := 0
	for _, ev := range hook.arrived {
		types = append(types, ev.Type)
		if ev.Sequence <= last {
			t.Fatalf("sequence %d after %d: %v", ev.Sequence, last, types)
		}
		last = ev.Sequence
	}
	switch {
	case len(types) == 1 && types[0] == "order.cancelled":
	case len(types) == 2 && types[0] == "order.created" && types[1] == "order.cancelled":
	default:
		t.Fatalf("merchant received %v, want [order.created order.cancelled] or [order.cancelled]", types)
	}
}

// One buyer cannot hold a product's stock with 3-D Secure purchases that
// never finish: past the cap a purchase is refused before any stock is
// taken, and a cancelled one makes room again.
func TestOpenUnpaidOrdersAreCappedPerBuyer(t *testing.T) {
	s := newStack(t, stackOptions{maxOpenUnpaid: 2})
	productID := s.product(5, 1500)
	buyer := s.buyer("buyer_hoarder_" + randomHex(4))
	body := purchaseBody(productID, 1, "pm_card_authenticationRequired")

	var open []string
	for i := range 2 {
		res := s.purchase(buyer, "key-hold-"+strconv.Itoa(i), body)
		if res.str("status") != string(models.StatusRequiresAction) {
			t.Fatalf("purchase %d: %d %s", i, res.Status, res.Raw)
		}
		open = append(open, res.str("order_id"))
	}
	refused := s.purchase(buyer, "key-hold-2", body)
	if refused.Status != http.StatusUnprocessableEntity || refused.errorCode() != "too_many_open_orders" {
		t.Fatalf("third open purchase answered %d %s, want 422 too_many_open_orders", refused.Status, refused.Raw)
	}
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock = %d, want 3: the refused purchase took nothing", got)
	}
	// Another buyer is not affected.
	s.purchase(s.buyer("buyer_other_"+randomHex(4)), "key-other", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated)

	s.do("POST", "/v1/orders/"+open[0]+"/cancel", buyer, nil, nil).expect(http.StatusOK)
	res := s.purchase(buyer, "key-hold-3", body)
	if res.str("status") != string(models.StatusRequiresAction) {
		t.Fatalf("after a cancel: %d %s", res.Status, res.Raw)
	}
}
