package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
)

// sandboxGet reads a Stripe object from the sandbox over the Stripe protocol.
func (s *stack) sandboxGet(path string) (int, map[string]any) {
	s.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer sk_test_e2e")
	rec := httptest.NewRecorder()
	s.Sandbox.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

// newCard makes a payment method from a card number, as Stripe.js would on
// the buyer's device.
func (s *stack) newCard(number string) string {
	s.t.Helper()
	form := url.Values{"type": {"card"}, "card[number]": {number}, "card[exp_month]": {"12"}, "card[exp_year]": {"2040"}}
	req := httptest.NewRequest("POST", "/v1/payment_methods", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer sk_test_e2e")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.Sandbox.ServeHTTP(rec, req)
	var pm struct {
		ID string `json:"id"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &pm) != nil || pm.ID == "" {
		s.t.Fatalf("sandbox payment method from %s: %d %s", number, rec.Code, rec.Body)
	}
	return pm.ID
}

// awaitDetached polls until the card is attached to no customer.
func (s *stack) awaitDetached(pmID string) {
	s.t.Helper()
	for i := 0; i < 400; i++ {
		if s.paymentMethodCustomer(pmID) == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("card %s was never detached", pmID)
}

func (s *stack) savedProfile(buyerID string) models.Profile {
	s.t.Helper()
	p, err := s.Store.Profile(context.Background(), buyerID)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func TestReplaceSavedCard(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(10, 1500)
	buyer := s.buyer("buyer_card")

	s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	s.awaitProfile(buyer)
	old := s.savedProfile("buyer_card")
	if old.Card.Last4 != "4242" || s.paymentMethodCustomer(old.PaymentMethodID) != old.StripeCustomerID {
		t.Fatalf("first profile: %+v", old)
	}

	// A card that Stripe refuses to attach is refused; the old card stays.
	declining := s.newCard("4000000000000002")
	refused := s.do("PUT", "/v1/me/profile", buyer, nil, map[string]any{"payment_method": declining}).
		expect(http.StatusPaymentRequired)
	if refused.errorCode() != "generic_decline" {
		t.Fatalf("declining card: %s", refused.Raw)
	}
	if got := s.savedProfile("buyer_card"); got.PaymentMethodID != old.PaymentMethodID || got.Card != old.Card {
		t.Fatalf("profile changed after a refused card: %+v", got)
	}
	if s.paymentMethodCustomer(old.PaymentMethodID) != old.StripeCustomerID {
		t.Fatal("the old card was detached although the new one was refused")
	}
	if s.paymentMethodCustomer(declining) != "" {
		t.Fatal("the refused card is attached")
	}

	// Not a payment method id at all: 400 before any workflow.
	if r := s.do("PUT", "/v1/me/profile", buyer, nil, map[string]any{"payment_method": "4242424242424242"}); r.Status != http.StatusBadRequest ||
		r.errorCode() != "invalid_payment_method" {
		t.Fatalf("card number as payment method: %d %s", r.Status, r.Raw)
	}

	// Replace with a Mastercard, address in the same request.
	newCard := s.newCard("5555555555554444")
	put := s.do("PUT", "/v1/me/profile", buyer, map[string]string{"Idempotency-Key": "card-1"}, map[string]any{
		"payment_method": newCard,
		"shipping_address": map[string]any{"name": "Ada Lovelace", "line1": "1 New Street", "city": "Bath",
			"postal_code": "BA1 1AA", "country": "GB"},
	}).expect(http.StatusOK)
	var view struct {
		Shipping map[string]string  `json:"shipping_address"`
		Card     models.CardSummary `json:"card"`
	}
	if err := json.Unmarshal([]byte(put.Raw), &view); err != nil {
		t.Fatal(err)
	}
	if view.Card.Brand != "mastercard" || view.Card.Last4 != "4444" || view.Card.ExpYear != 2040 || view.Shipping["city"] != "Bath" {
		t.Fatalf("profile after card change: %s", put.Raw)
	}
	cur := s.savedProfile("buyer_card")
	if cur.PaymentMethodID != newCard || cur.StripeCustomerID != old.StripeCustomerID || cur.ID != old.ID {
		t.Fatalf("stored profile after card change: %+v (was %+v)", cur, old)
	}
	if s.paymentMethodCustomer(newCard) != old.StripeCustomerID {
		t.Fatal("the new card is not attached to the buyer's customer")
	}
	// The old card is detached right after the profile changed, off the
	// buyer's waiting path.
	s.awaitDetached(old.PaymentMethodID)

	// The same request again answers the same, changing nothing.
	again := s.do("PUT", "/v1/me/profile", buyer, map[string]string{"Idempotency-Key": "card-1"},
		map[string]any{"payment_method": newCard}).expect(http.StatusOK)
	if !strings.Contains(again.Raw, `"4444"`) || s.savedProfile("buyer_card").PaymentMethodID != newCard {
		t.Fatalf("retried card change: %s", again.Raw)
	}

	// The next one tap pays with the new card on the same customer.
	tap := s.purchase(buyer, "tap", map[string]any{"product_id": productID, "quantity": 1}).expect(http.StatusCreated)
	if tap.str("status") != "authorized" {
		t.Fatalf("one tap after card change: %s", tap.Raw)
	}
	pi := s.intentRecord(tap.str("order_id"))
	if pi.PaymentMethod != newCard || pi.Customer != old.StripeCustomerID {
		t.Fatalf("one-tap intent uses %s on %s, want %s on %s", pi.PaymentMethod, pi.Customer, newCard, old.StripeCustomerID)
	}
	if got := s.order(tap.str("order_id")).Shipping.City; got != "Bath" {
		t.Fatalf("one tap ships to %s", got)
	}
}

func TestReplaceCardWithoutProfile(t *testing.T) {
	s := newStack(t, stackOptions{})
	buyer := s.buyer("buyer_nocard")
	r := s.do("PUT", "/v1/me/profile", buyer, nil, map[string]any{"payment_method": s.newCard("4242424242424242")}).
		expect(http.StatusNotFound)
	if r.errorCode() != "not_found" {
		t.Fatalf("card change without profile: %s", r.Raw)
	}
}

func TestDeclinedFirstPurchaseLeavesNoStripeCustomer(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 900)
	buyer := s.buyer("buyer_orphan")

	// This card attaches fine but is declined when charged.
	res := s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_chargeCustomerFail"))
	orderID := res.str("order_id")
	if res.str("status") != string(models.StatusPaymentFailed) {
		t.Fatalf("purchase with a failing card: %s", res.Raw)
	}
	// The card is set up by the payment itself, with no customer before
	// the answer: a declined one has none to leave behind.
	pi := s.intentRecord(orderID)
	if pi.Customer != "" || pi.PaymentMethod == "" {
		t.Fatalf("the first purchase paid on a customer made before the answer: %+v", pi)
	}
	s.waitWorkflowClosed(orderID)
	if n := s.Sandbox.CustomersFor(orderID); n != 0 {
		t.Fatalf("a declined first purchase left %d Stripe customers", n)
	}
	if s.paymentMethodCustomer(pi.PaymentMethod) != "" {
		t.Fatal("the declined card is still attached")
	}
	if s.do("GET", "/v1/me/profile", buyer, nil, nil).Status != http.StatusNotFound {
		t.Fatal("a declined first purchase saved a profile")
	}
}
