package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
)

// waitLedger waits until the order's refund ledger is as ok wants it.
func (s *stack) waitLedger(orderID string, ok func([]models.Refund) bool) []models.Refund {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := s.Store.Refunds(context.Background(), orderID)
		if err != nil {
			s.t.Fatal(err)
		}
		if ok(list) {
			return list
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("ledger %+v never reached the wanted state", list)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A refund is an update of the order's workflow: the same request sent
// three times at once (a client retrying over a flaky network) and another
// request that together with it would exceed the capture, all at the same
// moment, make exactly one refund at Stripe; the duplicates answer it, the
// other is refused with 409, and a later retry answers the same refund.
func TestRefundUpdateIsExactlyOnceAndCappedUnderConcurrency(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 2500)
	orderID := s.authorizedOrder(productID, "buyer_refund_race_"+randomHex(3))
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)

	keys := []string{"dup", "dup", "dup", "other"}
	answers := make([]response, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.refund(orderID, k, 1500)
		}()
	}
	wg.Wait()
	won := map[string]string{} // key → stripe refund id
	for i, a := range answers {
		switch a.Status {
		case http.StatusOK:
			id, _ := a.Body["refund"].(map[string]any)["stripe_refund_id"].(string)
			if prev, seen := won[keys[i]]; seen && prev != id {
				t.Fatalf("key %s answered two refunds: %s and %s", keys[i], prev, id)
			}
			won[keys[i]] = id
		case http.StatusConflict:
			if a.errorCode() != "refund_exceeds_captured" {
				t.Fatalf("refund %s: %d %s", keys[i], a.Status, a.Raw)
			}
		default:
			t.Fatalf("refund %s: %d %s", keys[i], a.Status, a.Raw)
		}
	}
	if len(won) != 1 {
		t.Fatalf("keys that refunded: %v, want exactly one", won)
	}
	pi := s.intentRecord(orderID)
	if got := s.Sandbox.Refunds(pi.ID); len(got) != 1 || got[0].Amount != 1500 {
		t.Fatalf("refunds at the sandbox %+v, want one of 1500", got)
	}
	for k, id := range won {
		again := s.refund(orderID, k, 1500).expect(http.StatusOK)
		if again.Body["refund"].(map[string]any)["stripe_refund_id"] != id {
			t.Fatalf("retry answered %s, want %s", again.Raw, id)
		}
	}
	if got := s.Sandbox.Refunds(pi.ID); len(got) != 1 {
		t.Fatalf("a retry refunded again: %+v", got)
	}
	if o := s.order(orderID); o.RefundedMinor != 1500 || o.Status != models.StatusAccepted {
		t.Fatalf("order %s refunded %d, want accepted with 1500", o.Status, o.RefundedMinor)
	}
}

// A merchant's refund that Stripe accepts and later fails gives its amount
// back; the buyer's cancel then refunds exactly the whole capture, and the
// merchant hears order.refund_failed with Stripe's reason, in sequence.
func TestRefundFailedAtStripeThenCancelRefundsExactlyTheRemainder(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 2500)
	buyer := "buyer_refund_fail_" + randomHex(3)
	orderID := s.purchase(s.buyer(buyer), "key-1", purchaseBody(productID, 1, "pm_card_refundFail")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.refund(orderID, "partial", 1000).expect(http.StatusOK)
	pi := s.intentRecord(orderID)
	if err := s.Sandbox.SettleRefund(s.Sandbox.Refunds(pi.ID)[0].ID, "failed", "expired_or_canceled_card"); err != nil {
		t.Fatal(err)
	}
	s.waitLedger(orderID, func(l []models.Refund) bool { return len(l) == 1 && l[0].Status == models.RefundFailed })

	s.do("POST", "/v1/orders/"+orderID+"/cancel", s.buyer(buyer), nil, map[string]any{"reason": "changed my mind"}).
		expect(http.StatusOK)
	s.waitWorkflowClosed(orderID)
	refunds := s.Sandbox.Refunds(pi.ID)
	byStatus := map[string]int64{}
	for _, r := range refunds {
		byStatus[r.Status] += r.Amount
	}
	if len(refunds) != 2 || byStatus["failed"] != 1000 || byStatus["succeeded"] != 2500 {
		t.Fatalf("refunds at the sandbox %+v, want the failed 1000 and one of 2500", refunds)
	}
	if o := s.order(orderID); o.Status != models.StatusCancelled || o.RefundedMinor != 2500 {
		t.Fatalf("order %s refunded %d, want cancelled with 2500", o.Status, o.RefundedMinor)
	}
	failed := s.waitDelivery(orderID, "order.refund_failed", func(d models.WebhookDelivery) bool {
		return d.Status == models.WebhookDelivered
	})
	if hook.eventsOfType("order.refund_failed")[0] != failed.ID {
		t.Fatalf("merchant did not receive %s", failed.ID)
	}
	assertSequenced(t, hook)
}

// The buyer's cancel refund is pending at Stripe and later fails: the order
// does not read cancelled as if the money went back; it is listed for
// operators, whose retry refunds the remainder under a new key.
func TestCancelRefundFailingLaterIsListedForOperators(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	orderID := s.cancelledAfterCapture("buyer_cancel_pending_", "pm_card_pendingRefund", 2000)
	s.waitLedger(orderID, func(l []models.Refund) bool {
		return len(l) == 1 && l[0].Status == models.RefundPending && l[0].StripeRefundID != ""
	})
	pi := s.intentRecord(orderID)
	if err := s.Sandbox.SettleRefund(s.Sandbox.Refunds(pi.ID)[0].ID, "failed", "lost_or_stolen_card"); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(orderID, models.StatusNeedsAttention)
	list := s.do("GET", "/v1/admin/orders/needs-attention", e2eOperatorToken, nil, nil).expect(http.StatusOK)
	if !listHasOrder(list, orderID) {
		t.Fatalf("needs-attention list lacks %s: %s", orderID, list.Raw)
	}
	s.do("POST", "/v1/admin/orders/"+orderID+"/resolve", e2eOperatorToken, nil, map[string]any{"action": "retry"}).
		expect(http.StatusOK)
	l := s.waitLedger(orderID, func(l []models.Refund) bool { return len(l) == 2 && l[1].StripeRefundID != "" })
	if l[1].AmountMinor != 2000 {
		t.Fatalf("the retry refunded %d, want the whole 2000", l[1].AmountMinor)
	}
	var retried string
	for _, r := range s.Sandbox.Refunds(pi.ID) {
		if r.Status == "pending" {
			retried = r.ID
		}
	}
	if err := s.Sandbox.SettleRefund(retried, "succeeded", ""); err != nil {
		t.Fatal(err)
	}
	s.waitWorkflowClosed(orderID)
	if o := s.order(orderID); o.Status != models.StatusCancelled || o.RefundedMinor != 2000 {
		t.Fatalf("order %s refunded %d, want cancelled with 2000", o.Status, o.RefundedMinor)
	}
}

// A refund after the order's workflow ended (delivered) runs in a short
// workflow of its own; the merchant's order.refunded carries the sequence
// number after the order's last event, and a retry of the request answers
// the same refund.
func TestLateRefundAfterDeliveryIsSequencedAfterTheOrdersEvents(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 1800)
	orderID := s.authorizedOrder(productID, "buyer_late_refund_"+randomHex(3))
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(orderID, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z1"}).expect(http.StatusOK)
	s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK)
	s.waitWorkflowClosed(orderID)

	first := s.refund(orderID, "late", 700).expect(http.StatusOK)
	again := s.refund(orderID, "late", 700).expect(http.StatusOK)
	id := first.Body["refund"].(map[string]any)["stripe_refund_id"]
	if again.Body["refund"].(map[string]any)["stripe_refund_id"] != id {
		t.Fatalf("retry answered %s, want %v", again.Raw, id)
	}
	if got := s.Sandbox.Refunds(s.intentRecord(orderID).ID); len(got) != 1 || got[0].Amount != 700 {
		t.Fatalf("refunds at the sandbox %+v, want one of 700", got)
	}
	if r := s.refund(orderID, "late-2", 1200); r.Status != http.StatusConflict || r.errorCode() != "refund_exceeds_captured" {
		t.Fatalf("a late refund beyond the capture: %d %s", r.Status, r.Raw)
	}
	s.waitDelivery(orderID, "order.refunded", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })
	hook.mu.Lock()
	var types []string
	for _, ev := range hook.arrived {
		types = append(types, ev.Type)
	}
	hook.mu.Unlock()
	want := []string{"order.created", "order.delivered", "order.refunded"}
	if len(types) != len(want) || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
		t.Fatalf("merchant received %v, want %v", types, want)
	}
	assertSequenced(t, hook)
}

// assertSequenced checks that the merchant's events arrived with rising
// sequence numbers, none repeated.
func assertSequenced(t *testing.T, hook *merchantEndpoint) {
	t.Helper()
	hook.mu.Lock()
	defer hook.mu.Unlock()
	last := 0
	seen := map[string]bool{}
	for _, ev := range hook.arrived {
		if seen[ev.ID] {
			continue // a redelivery of the same event
		}
		seen[ev.ID] = true
		if ev.Sequence <= last {
			t.Fatalf("event %s (%s) has sequence %d after %d", ev.ID, ev.Type, ev.Sequence, last)
		}
		last = ev.Sequence
	}
}

// A dispute opened and lost after the order's workflow ended is handled by
// short workflows, one per Stripe event: the order shows it, and the
// merchant gets order.disputed then order.dispute_closed (status lost, the
// amount and the bank's reason), numbered after the order's last event.
func TestLateDisputeAfterDeliveryIsSequencedAfterTheOrdersEvents(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 1800)
	orderID := s.authorizedOrder(productID, "buyer_late_dispute_"+randomHex(3))
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(orderID, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z2"}).expect(http.StatusOK)
	s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK)
	s.waitWorkflowClosed(orderID)

	disputeID, err := s.Sandbox.Dispute(s.intentRecord(orderID).ID, "fraudulent")
	if err != nil {
		t.Fatal(err)
	}
	s.waitDispute(orderID, models.DisputeNeedsResponse, true)
	if err := s.Sandbox.CloseDispute(disputeID, false); err != nil {
		t.Fatal(err)
	}
	s.waitDispute(orderID, models.DisputeLost, true)
	closed := s.waitDelivery(orderID, "order.dispute_closed", func(d models.WebhookDelivery) bool {
		return d.Status == models.WebhookDelivered
	})
	var body struct {
		Data struct {
			Dispute *struct {
				Status string `json:"status"`
				Amount int64  `json:"amount"`
				Reason string `json:"reason"`
			} `json:"dispute"`
		} `json:"data"`
	}
	hook.mu.Lock()
	raw := hook.bodies[closed.ID]
	var types []string
	for _, ev := range hook.arrived {
		types = append(types, ev.Type)
	}
	hook.mu.Unlock()
	if err := json.Unmarshal(raw, &body); err != nil || body.Data.Dispute == nil {
		t.Fatalf("order.dispute_closed body %s (%v)", raw, err)
	}
	if d := body.Data.Dispute; d.Status != models.DisputeLost || d.Amount != 1800 || d.Reason != "fraudulent" {
		t.Fatalf("dispute in the event: %+v", d)
	}
	want := []string{"order.created", "order.delivered", "order.disputed", "order.dispute_closed"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("merchant received %v, want %v", types, want)
	}
	assertSequenced(t, hook)
}

// Stripe makes the refund but its answer is lost: the refund step finds it
// by its order and request tags and adopts it. Once Stripe has forgotten
// every key (a day passing), the same request again answers that refund.
// Exactly one refund at Stripe, counted once.
func TestRefundAnswerLostAndKeyPrunedIsAdoptedOnce(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 2500)
	orderID := s.authorizedOrder(productID, "buyer_refund_lost_"+randomHex(3))
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.Sandbox.SetFaults(sandbox.Faults{FailAfterNext: 1, Only: "/v1/refunds"})
	res := s.refund(orderID, "r-lost", 900).expect(http.StatusOK)
	refund := res.Body["refund"].(map[string]any)
	if refund["status"] != "succeeded" {
		t.Fatalf("refund answered %s", res.Raw)
	}
	if f := s.Sandbox.Faults(); f.FailAfterNext != 0 {
		t.Fatalf("the lost answer was never met: %+v", f)
	}
	s.Sandbox.ExpireIdempotencyKeys("")
	again := s.refund(orderID, "r-lost", 900).expect(http.StatusOK)
	if again.Body["refund"].(map[string]any)["stripe_refund_id"] != refund["stripe_refund_id"] {
		t.Fatalf("after the keys were pruned the request answered %s", again.Raw)
	}
	got := s.Sandbox.Refunds(s.intentRecord(orderID).ID)
	if len(got) != 1 || got[0].Amount != 900 || got[0].ID != refund["stripe_refund_id"] {
		t.Fatalf("refunds at the sandbox %+v, want exactly one of 900", got)
	}
	if o := s.order(orderID); o.RefundedMinor != 900 {
		t.Fatalf("refunded %d, want 900", o.RefundedMinor)
	}
}

// The cancel's refund succeeds, the order's workflow ends, and Stripe later
// fails the refund (a card that cannot take it): the order does not read
// cancelled as if the money went back. It is listed for operators, and an
// operator's retry refunds the whole capture again, through a short
// workflow, back to cancelled.
func TestCancelRefundFailingAfterTheEndIsListedAndRetried(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	orderID := s.cancelledAfterCapture("buyer_cancel_late_fail_", "pm_card_refundFail", 2200)
	s.waitWorkflowClosed(orderID)
	pi := s.intentRecord(orderID)
	if err := s.Sandbox.SettleRefund(s.Sandbox.Refunds(pi.ID)[0].ID, "", ""); err != nil {
		t.Fatal(err)
	}
	o := s.waitStatus(orderID, models.StatusNeedsAttention)
	if o.FailureCode != "refund_failed" || o.RefundedMinor != 0 {
		t.Fatalf("order %s (%s) refunded %d", o.Status, o.FailureCode, o.RefundedMinor)
	}
	list := s.do("GET", "/v1/admin/orders/needs-attention", e2eOperatorToken, nil, nil).expect(http.StatusOK)
	if !listHasOrder(list, orderID) {
		t.Fatalf("needs-attention list lacks %s: %s", orderID, list.Raw)
	}
	res := s.do("POST", "/v1/admin/orders/"+orderID+"/resolve", e2eOperatorToken, nil, map[string]any{"action": "retry"}).
		expect(http.StatusOK)
	if res.str("status") != string(models.StatusCancelled) {
		t.Fatalf("resolve answered %s", res.Raw)
	}
	refunds := s.Sandbox.Refunds(pi.ID)
	var succeeded int64
	for _, r := range refunds {
		if r.Status == "succeeded" {
			succeeded += r.Amount
		}
	}
	if len(refunds) != 2 || succeeded != 2200 {
		t.Fatalf("refunds at the sandbox %+v, want the failed one and a new one of 2200", refunds)
	}
	if o := s.order(orderID); o.Status != models.StatusCancelled || o.RefundedMinor != 2200 {
		t.Fatalf("order %s refunded %d, want cancelled with 2200", o.Status, o.RefundedMinor)
	}
	if again := s.do("POST", "/v1/admin/orders/"+orderID+"/resolve", e2eOperatorToken, nil, map[string]any{"action": "retry"}); again.Status != http.StatusConflict {
		t.Fatalf("resolving a settled order answered %d %s, want 409", again.Status, again.Raw)
	}
}

// cancelledAfterCapture buys one item at price with the card pm, has the
// merchant accept and the buyer cancel: the order's cancel refund is under way.
func (s *stack) cancelledAfterCapture(buyerPrefix, pm string, price int64) string {
	s.t.Helper()
	productID := s.product(5, price)
	buyer := buyerPrefix + randomHex(3)
	orderID := s.purchase(s.buyer(buyer), "key-1", purchaseBody(productID, 1, pm)).expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.do("POST", "/v1/orders/"+orderID+"/cancel", s.buyer(buyer), nil, map[string]any{"reason": "changed my mind"}).
		expect(http.StatusOK)
	return orderID
}
