package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// awaitProfile polls until the buyer's profile exists: it is saved right
// after the pay answer, off the buyer's waiting path.
func (s *stack) awaitProfile(token string) response {
	s.t.Helper()
	for i := 0; i < 200; i++ {
		r := s.do("GET", "/v1/me/profile", token, nil, nil)
		if r.Status == http.StatusOK {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("profile was never saved")
	return response{}
}

// paymentMethodCustomer asks the sandbox, over the Stripe protocol, which
// customer a payment method is attached to.
func (s *stack) paymentMethodCustomer(pmID string) string {
	s.t.Helper()
	req := httptest.NewRequest("GET", "/v1/payment_methods/"+pmID, nil)
	req.Header.Set("Authorization", "Bearer sk_test_e2e")
	rec := httptest.NewRecorder()
	s.Sandbox.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		s.t.Fatalf("sandbox payment method %s: %d %s", pmID, rec.Code, rec.Body)
	}
	var pm struct {
		Customer *string `json:"customer"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &pm); err != nil {
		s.t.Fatal(err)
	}
	if pm.Customer == nil {
		return ""
	}
	return *pm.Customer
}

// rawText returns every column of every row of the tables, as stored.
func (s *stack) rawText(tables ...string) string {
	s.t.Helper()
	var b strings.Builder
	for _, table := range tables {
		var rows []map[string]any
		if err := s.Store.DB().Raw("SELECT * FROM " + table).Scan(&rows).Error; err != nil {
			s.t.Fatal(err)
		}
		for _, r := range rows {
			for _, v := range r {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				b.WriteString(strings.ToLower(toString(v)) + "\n")
			}
		}
	}
	return b.String()
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var addressPII = []string{"ada lovelace", "st james square", "london", "sw1y 4jh", "ada@example.com", "+44 20 7946 0000"}

func TestSavedProfileOneTapAndErasure(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx := context.Background()
	productID := s.product(10, 1250)
	buyer := s.buyer("buyer_profile")

	// One tap before any profile: the client is told to collect details.
	none := s.purchase(buyer, "tap-0", map[string]any{"product_id": productID, "quantity": 1}).
		expect(http.StatusUnprocessableEntity)
	if none.errorCode() != "profile_required" {
		t.Fatalf("one tap without profile: %s", none.Raw)
	}

	first := purchaseBody(productID, 1, "pm_card_visa")
	first["email"], first["phone"] = "ada@example.com", "+44 20 7946 0000"
	firstID := s.purchase(buyer, "first", first).expect(http.StatusCreated).str("order_id")
	view := s.awaitProfile(buyer)
	var masked struct {
		Shipping map[string]string  `json:"shipping_address"`
		Card     models.CardSummary `json:"card"`
	}
	if err := json.Unmarshal([]byte(view.Raw), &masked); err != nil {
		t.Fatal(err)
	}
	if masked.Shipping["city"] != "London" || masked.Shipping["country"] != "GB" || masked.Card.Brand != "visa" || masked.Card.Last4 != "4242" {
		t.Fatalf("masked profile: %s", view.Raw)
	}
	for _, secret := range []string{"Ada", "James", "SW1Y", "example.com", "7946"} {
		if strings.Contains(view.Raw, secret) {
			t.Fatalf("masked profile shows %q: %s", secret, view.Raw)
		}
	}
	prof, err := s.Store.Profile(ctx, "buyer_profile")
	if err != nil {
		t.Fatal(err)
	}
	if prof.StripeCustomerID == "" || s.paymentMethodCustomer(prof.PaymentMethodID) != prof.StripeCustomerID {
		t.Fatalf("saved card %s is not attached to customer %s", prof.PaymentMethodID, prof.StripeCustomerID)
	}

	// The repeat purchase is one request with only the product.
	tap := s.purchase(buyer, "tap-1", map[string]any{"product_id": productID, "quantity": 1}).expect(http.StatusCreated)
	tapID := tap.str("order_id")
	if tap.str("status") != "authorized" {
		t.Fatalf("one tap: %s", tap.Raw)
	}
	if got := s.order(tapID).Shipping; got.City != "London" || got.Line1 != "12 St James Square" {
		t.Fatalf("one-tap order ships to %+v", got)
	}

	// PUT replaces the address; the next one tap ships there.
	s.do("PUT", "/v1/me/profile", buyer, nil, map[string]any{"shipping_address": map[string]any{
		"name": "Ada Lovelace", "line1": "1 New Street", "city": "Bath", "postal_code": "BA1 1AA", "country": "gb"}}).
		expect(http.StatusOK)
	if v := s.do("GET", "/v1/me/profile", buyer, nil, nil).expect(http.StatusOK); !strings.Contains(v.Raw, `"Bath"`) {
		t.Fatalf("profile after PUT: %s", v.Raw)
	}
	addressPII = append(addressPII, "1 new street", "bath")

	raw := s.rawText("orders", "buyer_profiles")
	for _, secret := range addressPII {
		if strings.Contains(raw, secret) {
			t.Fatalf("plaintext %q in the database", secret)
		}
	}

	// The first order is delivered; the one-tap order is still open at erasure.
	s.merchantAction(firstID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(firstID, "ship", map[string]any{"carrier": "DHL", "tracking_number": "JD1"}).expect(http.StatusOK)
	s.merchantAction(firstID, "deliver", nil).expect(http.StatusOK)

	s.do("DELETE", "/v1/me/profile", buyer, nil, nil).expect(http.StatusNoContent)
	s.do("GET", "/v1/me/profile", buyer, nil, nil).expect(http.StatusNotFound)
	if err := s.Temporal.GetWorkflow(ctx, workflows.ProfileErasureWorkflowID(prof.ID), "").Get(ctx, nil); err != nil {
		t.Fatalf("erasure workflow: %v", err)
	}
	if got := s.paymentMethodCustomer(prof.PaymentMethodID); got != "" {
		t.Fatalf("payment method still attached to %s after erasure", got)
	}
	if got := s.order(firstID).Shipping; got != (models.Address{}) {
		t.Fatalf("delivered order keeps its address after erasure: %+v", got)
	}
	if got := s.order(tapID).Shipping; got.Line1 == "" {
		t.Fatal("an open order lost the address the merchant must ship to")
	}
	s.merchantAction(tapID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(tapID, "ship", map[string]any{"carrier": "DHL", "tracking_number": "JD2"}).expect(http.StatusOK)
	s.merchantAction(tapID, "deliver", nil).expect(http.StatusOK)
	if got := s.order(tapID).Shipping; got != (models.Address{}) {
		t.Fatalf("order delivered after erasure keeps its address: %+v", got)
	}
	var left int64
	if err := s.Store.DB().Raw("SELECT COUNT(*) FROM orders WHERE buyer_id = ? AND shipping_address <> ''", "buyer_profile").Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d orders keep a sealed address after erasure and delivery", left)
	}
	raw = s.rawText("orders", "buyer_profiles")
	for _, secret := range addressPII {
		if strings.Contains(raw, secret) {
			t.Fatalf("plaintext %q in the database after erasure", secret)
		}
	}

	// After erasure the buyer is asked for details again.
	again := s.purchase(buyer, "tap-2", map[string]any{"product_id": productID, "quantity": 1}).expect(http.StatusUnprocessableEntity)
	if again.errorCode() != "profile_required" {
		t.Fatalf("one tap after erasure: %s", again.Raw)
	}
}

// A first purchase that saves details makes one Stripe call before the
// buyer's answer: the authorization, with setup_future_usage and no
// customer. The customer is made and the card attached after the answer (as
// the workflow's history orders it), and the next purchase is one tap on
// that customer and card.
func TestFirstPurchaseSavesTheCardAfterTheAnswerThenOneTap(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx := context.Background()
	productID := s.product(10, 1250)
	buyer := s.buyer("buyer_after_answer")

	first := s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	firstID := first.str("order_id")
	if first.str("status") != "authorized" {
		t.Fatalf("first purchase: %s", first.Raw)
	}
	pi := s.intentRecord(firstID)
	_, intent := s.sandboxGet("/v1/payment_intents/" + pi.ID)
	if pi.Customer != "" || intent["setup_future_usage"] != "off_session" {
		t.Fatalf("the first authorization: customer %q, setup_future_usage %v", pi.Customer, intent["setup_future_usage"])
	}
	s.awaitProfile(buyer)
	prof, err := s.Store.Profile(ctx, "buyer_after_answer")
	if err != nil {
		t.Fatal(err)
	}
	if prof.PaymentMethodID != pi.PaymentMethod || s.paymentMethodCustomer(pi.PaymentMethod) != prof.StripeCustomerID {
		t.Fatalf("profile card %s on %s; the authorization set up %s", prof.PaymentMethodID, prof.StripeCustomerID, pi.PaymentMethod)
	}
	if n := s.Sandbox.CustomersFor(firstID); n != 1 {
		t.Fatalf("the first purchase made %d customers", n)
	}

	// The history: the card-saving step is scheduled by the workflow task
	// that answers the buyer and starts only after the answer is recorded;
	// nothing made a customer before the payment.
	var events []string
	scheduled := map[int64]string{}
	it := s.Temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(firstID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		name := ev.GetEventType().String()
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			name = "scheduled " + a.GetActivityType().GetName()
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			name = "started " + scheduled[a.GetScheduledEventId()]
		}
		events = append(events, name)
	}
	answered, saving := slices.Index(events, "WorkflowExecutionUpdateCompleted"), slices.Index(events, "started SaveCardOnNewCustomer")
	if answered < 0 || saving < answered || slices.Contains(events, "scheduled PrepareSavedCard") {
		t.Fatalf("history order: %v", events)
	}

	tap := s.purchase(buyer, "tap", map[string]any{"product_id": productID, "quantity": 1}).expect(http.StatusCreated)
	if tap.str("status") != "authorized" {
		t.Fatalf("one tap: %s", tap.Raw)
	}
	if got := s.intentRecord(tap.str("order_id")); got.Customer != prof.StripeCustomerID || got.PaymentMethod != prof.PaymentMethodID {
		t.Fatalf("one tap paid with %s on %q, want the saved %s on %s", got.PaymentMethod, got.Customer, prof.PaymentMethodID, prof.StripeCustomerID)
	}
}

func TestOptOutSavesNoProfile(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1250)
	buyer := s.buyer("buyer_private")
	body := purchaseBody(productID, 1, "pm_card_visa")
	body["save_details"] = false
	id := s.purchase(buyer, "k1", body).expect(http.StatusCreated).str("order_id")
	// Accepting goes through the workflow after the point where it would
	// have saved, so the absence below is final.
	s.merchantAction(id, "accept", nil).expect(http.StatusOK)
	s.do("GET", "/v1/me/profile", buyer, nil, nil).expect(http.StatusNotFound)
}
