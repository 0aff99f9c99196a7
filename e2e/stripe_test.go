package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
)

// buy3DS buys with a card that needs 3-D Secure and returns the order and
// its PaymentIntent.
func (s *stack) buy3DS(productID string) (orderID, intentID string) {
	s.t.Helper()
	// Order ids derive from buyer and key, and the Temporal server is shared
	// by every test: a buyer of its own keeps workflow ids apart.
	res := s.purchase(s.buyer("buyer_3ds_"+randomHex(4)), "key-3ds", purchaseBody(productID, 1, "pm_card_authenticationRequired"))
	if res.str("status") != string(models.StatusRequiresAction) || res.str("client_secret") == "" {
		s.t.Fatalf("pay answer: %d %s", res.Status, res.Raw)
	}
	next, _ := res.Body["next_action"].(map[string]any)
	if next["type"] == "" || next["type"] == nil {
		s.t.Fatalf("pay answer lacks next_action.type: %s", res.Raw)
	}
	orderID = res.str("order_id")
	return orderID, s.intentRecord(orderID).ID
}

func (s *stack) intentRecord(orderID string) sandbox.IntentRecord {
	s.t.Helper()
	for _, pi := range s.Sandbox.Intents() {
		if pi.OrderID == orderID {
			return pi
		}
	}
	s.t.Fatalf("no payment intent for order %s", orderID)
	return sandbox.IntentRecord{}
}

// waitStatus waits for the read model to show the order in status want; the
// webhook and the workflow run asynchronously.
func (s *stack) waitStatus(orderID string, want models.OrderStatus) models.Order {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var o models.Order
	for time.Now().Before(deadline) {
		o = s.order(orderID)
		if o.Status == want {
			return o
		}
		// An ending can still turn needs_attention, which is waited for.
		if o.Status.Terminal() && want != models.StatusNeedsAttention {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("order %s is %s, want %s", orderID, o.Status, want)
	return o
}

func TestThreeDSecurePassedThenCaptured(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	productID := s.product(5, 1800)
	orderID, intentID := s.buy3DS(productID)
	if o := s.order(orderID); o.Status != models.StatusRequiresAction {
		t.Fatalf("before authentication: %s", o.Status)
	}
	if got := s.stock(productID); got != 4 {
		t.Fatalf("stock held during 3-D Secure = %d, want 4", got)
	}

	// The buyer passes the challenge; the sandbox sends the signed
	// payment_intent.amount_capturable_updated to the API, as Stripe does.
	if err := s.Sandbox.Authenticate(intentID, true); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(orderID, models.StatusAuthorized)

	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	o := s.order(orderID)
	if o.CapturedMinor != 1800 {
		t.Fatalf("captured %d, want 1800", o.CapturedMinor)
	}
	if pi := s.intentRecord(orderID); pi.Status != payments.IntentSucceeded || pi.AmountReceived != 1800 {
		t.Fatalf("intent after accept: %+v", pi)
	}
}

func TestThreeDSecureFailedReleasesStock(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	productID := s.product(5, 1800)
	orderID, intentID := s.buy3DS(productID)

	if err := s.Sandbox.Authenticate(intentID, false); err != nil {
		t.Fatal(err)
	}
	o := s.waitStatus(orderID, models.StatusPaymentFailed)
	if o.FailureCode != "authentication_failed" {
		t.Fatalf("failure code %q", o.FailureCode)
	}
	s.waitWorkflowClosed(orderID)
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock after failed 3-D Secure = %d, want 5", got)
	}
	if pi := s.intentRecord(orderID); pi.AmountReceived != 0 || pi.AmountCapturable != 0 {
		t.Fatalf("money moved: %+v", pi)
	}
}

func TestThreeDSecureAbandonedCancelsIntentAndReleasesStock(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true, paymentActionTimeout: 2 * time.Second})
	productID := s.product(5, 1800)
	orderID, _ := s.buy3DS(productID)

	o := s.waitStatus(orderID, models.StatusExpired)
	if o.FailureCode != "authentication_timeout" {
		t.Fatalf("failure code %q", o.FailureCode)
	}
	s.waitWorkflowClosed(orderID)
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock after abandoned 3-D Secure = %d, want 5", got)
	}
	if pi := s.intentRecord(orderID); pi.Status != payments.IntentCanceled || pi.AmountReceived != 0 {
		t.Fatalf("intent after abandonment: %+v", pi)
	}
}

// stripeEvent builds a Stripe event body.
func stripeEvent(id, typ string, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(),
		"type": typ, "data": map[string]any{"object": object}, "livemode": false,
	})
	return b
}

// postWebhook delivers a body to the Stripe webhook endpoint, signed with
// secret at time at.
func (s *stack) postWebhook(body []byte, secret string, at time.Time) response {
	s.t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	return s.postWebhookHeader(body, signed.Header)
}

// postWebhookHeader delivers body with the Stripe-Signature header as given.
func (s *stack) postWebhookHeader(body []byte, header string) response {
	s.t.Helper()
	return s.postSigned("/v1/webhooks/stripe", body, header)
}

// postSigned delivers body to a Stripe webhook endpoint at path.
func (s *stack) postSigned(path string, body []byte, header string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.API.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{t: s.t, Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func disputeNotes(events []models.OrderEvent) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e.Detail, "dispute opened") {
			n++
		}
	}
	return n
}

func TestStripeWebhookSignatureAndReplay(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1000)
	orderID := s.purchase(s.buyer("buyer_dispute"), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	intentID := s.order(orderID).PaymentIntentID

	dispute := stripeEvent("evt_dispute_1", payments.EventChargeDisputeCreated, map[string]any{
		"id": "dp_1", "object": "dispute", "amount": 1000, "charge": "ch_1", "payment_intent": intentID,
		"reason": "fraudulent", "status": "needs_response", "metadata": map[string]any{},
	})

	// Forged and stale deliveries are refused and leave no trace.
	if r := s.postWebhook(dispute, "whsec_wrong", time.Now()); r.Status != http.StatusBadRequest || r.errorCode() != "invalid_signature" {
		t.Fatalf("bad signature: %d %s", r.Status, r.Raw)
	}
	if r := s.postWebhook(dispute, e2eWebhookSecret, time.Now().Add(-time.Hour)); r.Status != http.StatusBadRequest || r.errorCode() != "stale_signature" {
		t.Fatalf("stale signature: %d %s", r.Status, r.Raw)
	}
	// A captured old delivery replayed with a fresh t= in front (the age was
	// once read from the first t=, the MAC from the last), for an event id
	// the API never saw.
	old := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: dispute, Secret: e2eWebhookSecret,
		Timestamp: time.Now().Add(-time.Hour)})
	if r := s.postWebhookHeader(dispute, fmt.Sprintf("t=%d,%s", time.Now().Unix(), old.Header)); r.Status != http.StatusBadRequest || r.errorCode() != "invalid_signature" {
		t.Fatalf("duplicated t: %d %s", r.Status, r.Raw)
	}
	if o := s.order(orderID); o.Disputed {
		t.Fatal("a refused delivery marked the order disputed")
	}

	s.postWebhook(dispute, e2eWebhookSecret, time.Now()).expect(http.StatusOK)
	// The order's workflow records it, moments after the 200.
	s.waitDispute(orderID, models.DisputeNeedsResponse, true)
	view := s.do("GET", "/v1/orders/"+orderID, s.MerchantKey, nil, nil).expect(http.StatusOK)
	if view.Body["disputed"] != true {
		t.Fatalf("order not marked disputed: %s", view.Raw)
	}

	// The same event again (Stripe redelivers) has no second effect.
	again := s.postWebhook(dispute, e2eWebhookSecret, time.Now()).expect(http.StatusOK)
	if again.Body["duplicate"] != true {
		t.Fatalf("replay not recognised: %s", again.Raw)
	}
	events, err := s.Store.OrderEvents(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	if n := disputeNotes(events); n != 1 {
		t.Fatalf("dispute audit events = %d, want 1", n)
	}
	if o := s.order(orderID); o.Status != models.StatusAccepted {
		t.Fatalf("a dispute changed the status to %s", o.Status)
	}
}

func (s *stack) refund(orderID, key string, amount int64) response {
	return s.do("POST", "/v1/merchant/orders/"+orderID+"/refund", s.MerchantKey,
		map[string]string{"Idempotency-Key": key}, map[string]any{"amount": amount, "reason": "damaged"})
}

func TestPartialRefundsNeverExceedCaptured(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	productID := s.product(5, 2500)
	orderID := s.purchase(s.buyer("buyer_refund"), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")

	// Nothing captured yet: nothing to refund.
	if r := s.refund(orderID, "early", 100); r.Status != http.StatusConflict || r.errorCode() != "not_captured" {
		t.Fatalf("refund before capture: %d %s", r.Status, r.Raw)
	}
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)

	first := s.refund(orderID, "r-1", 1000).expect(http.StatusOK)
	s.refund(orderID, "r-2", 1000).expect(http.StatusOK)
	if r := s.refund(orderID, "r-3", 1000); r.Status != http.StatusConflict || r.errorCode() != "refund_exceeds_captured" {
		t.Fatalf("excess refund: %d %s", r.Status, r.Raw)
	}
	// A retried request is the same refund, not another one.
	retry := s.refund(orderID, "r-1", 1000).expect(http.StatusOK)
	if retry.Body["refund"].(map[string]any)["stripe_refund_id"] != first.Body["refund"].(map[string]any)["stripe_refund_id"] {
		t.Fatalf("retry made another refund: %s vs %s", retry.Raw, first.Raw)
	}
	if r := s.refund(orderID, "r-1", 700); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("key reused with another amount: %d %s", r.Status, r.Raw)
	}

	view := s.do("GET", "/v1/orders/"+orderID, s.MerchantKey, nil, nil).expect(http.StatusOK)
	if view.Body["refunded_amount"] != float64(2000) || view.Body["status"] != "accepted" {
		t.Fatalf("order after refunds: %s", view.Raw)
	}
	if pi := s.intentRecord(orderID); pi.AmountRefunded != 2000 {
		t.Fatalf("refunded at Stripe = %d, want 2000", pi.AmountRefunded)
	}
	if got := s.stock(productID); got != 4 {
		t.Fatalf("a partial refund changed the stock to %d", got)
	}
}

func TestBuyerCancelAfterCaptureRefundsTheRest(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 2500)
	buyer := s.buyer("buyer_cancel")
	orderID := s.purchase(buyer, "key-1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.refund(orderID, "goodwill", 500).expect(http.StatusOK)

	s.do("POST", "/v1/orders/"+orderID+"/cancel", buyer, nil, nil).expect(http.StatusOK)
	s.waitStatus(orderID, models.StatusCancelled)
	// The cancel answers at once; the refund follows in the background and
	// the workflow closes once the money is back.
	s.waitWorkflowClosed(orderID)
	o := s.order(orderID)
	if o.Status != models.StatusCancelled || o.RefundedMinor != 2500 {
		t.Fatalf("refunded %d, want the full 2500", o.RefundedMinor)
	}
	if pi := s.intentRecord(orderID); pi.AmountRefunded != 2500 {
		t.Fatalf("refunded at Stripe = %d, want 2500", pi.AmountRefunded)
	}
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock after cancel = %d, want 5", got)
	}
}

func TestFullRefundBeforeShippingReleasesStockAfterDoesNot(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1200)
	buyer := s.buyer("buyer_full")

	before := s.purchase(buyer, "key-before", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	after := s.purchase(buyer, "key-after", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	for _, id := range []string{before, after} {
		s.merchantAction(id, "accept", nil).expect(http.StatusOK)
	}
	s.merchantAction(after, "ship", map[string]any{"carrier": "DHL", "tracking_number": "JD1"}).expect(http.StatusOK)
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock = %d, want 3", got)
	}

	s.refund(after, "all", 1200).expect(http.StatusOK)
	if o := s.order(after); o.Status != models.StatusShipped || o.RefundedMinor != 1200 {
		t.Fatalf("shipped order after full refund: %s refunded %d", o.Status, o.RefundedMinor)
	}

	s.refund(before, "all", 1200).expect(http.StatusOK)
	o := s.waitStatus(before, models.StatusCancelled)
	if o.RefundedMinor != 1200 {
		t.Fatalf("refunded %d", o.RefundedMinor)
	}
	s.waitWorkflowClosed(before)
	if got := s.stock(productID); got != 4 {
		t.Fatalf("stock = %d, want 4 (only the unshipped order's unit back)", got)
	}
	if pi := s.intentRecord(before); pi.AmountRefunded != 1200 {
		t.Fatalf("refunded at Stripe = %d, want 1200", pi.AmountRefunded)
	}
}

// The sandbox sends charge.dispute.created as Stripe would; the order is
// found through its PaymentIntent and marked disputed.
func TestDisputeFromStripeMarksTheOrder(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	productID := s.product(5, 1000)
	orderID := s.purchase(s.buyer("buyer_chargeback"), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	if _, err := s.Sandbox.Dispute(s.intentRecord(orderID).ID, "fraudulent"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !s.order(orderID).Disputed {
		if time.Now().After(deadline) {
			t.Fatal("order not marked disputed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	events, err := s.Store.OrderEvents(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	if n := disputeNotes(events); n != 1 {
		t.Fatalf("dispute audit events = %d, want 1", n)
	}
}
