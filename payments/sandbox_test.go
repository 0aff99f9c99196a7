package payments

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
)

// The sandbox keeps state, unlike stripe-mock, so these tests check business
// outcomes: statuses after each step, declines, 3-D Secure, and that the
// gateway's reconciliation works against a server that really did the work.

func newSandbox(t *testing.T) (*Gateway, string) {
	t.Helper()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	t.Cleanup(srv.Close)
	return New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()}), srv.URL
}

// setFaults goes through the sandbox's HTTP control route, the same way the
// end-to-end tests steer it.
func setFaults(t *testing.T, base, faults string) {
	t.Helper()
	resp, err := http.Post(base+"/_sandbox/faults", "application/json", strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set faults %s: status %d", faults, resp.StatusCode)
	}
}

func sandboxAuth(orderID, pm string) AuthorizeRequest {
	return AuthorizeRequest{OrderID: orderID, Amount: models.Money{Amount: 2500, Currency: "usd"}, PaymentMethod: pm}
}

func TestSandboxAuthorizeCaptureRefund(t *testing.T) {
	g, _ := newSandbox(t)
	ctx := context.Background()
	in, err := g.Authorize(ctx, sandboxAuth("ord_1", "pm_card_visa"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != IntentRequiresCapture || in.AmountCapturable != 2500 || in.ClientSecret != "" {
		t.Fatalf("authorized %+v", in)
	}
	again, err := g.Authorize(ctx, sandboxAuth("ord_1", "pm_card_visa"))
	if err != nil || again.ID != in.ID {
		t.Fatalf("retried authorize made %q (%v), want the same intent %q", again.ID, err, in.ID)
	}

	captured, err := g.Capture(ctx, "ord_1", in.ID, 1)
	if err != nil || captured.Status != IntentSucceeded || captured.AmountReceived != 2500 {
		t.Fatalf("capture: %v %+v", err, captured)
	}
	if got, err := g.Retrieve(ctx, in.ID); err != nil || got.Status != IntentSucceeded {
		t.Fatalf("retrieve: %v %+v", err, got)
	}

	rf, err := g.Refund(ctx, RefundRequest{OrderID: "ord_1", IntentID: in.ID, Amount: 1000, Reason: "item damaged", Step: "r1"})
	if err != nil || rf.ID == "" || rf.Amount != 1000 || rf.Status != "succeeded" {
		t.Fatalf("refund: %v %+v", err, rf)
	}
	rf2, err := g.Refund(ctx, RefundRequest{OrderID: "ord_1", IntentID: in.ID, Amount: 1000, Reason: "item damaged", Step: "r1"})
	if err != nil || rf2.ID != rf.ID {
		t.Fatalf("retried refund made %q (%v), want %q", rf2.ID, err, rf.ID)
	}
	_, err = g.Refund(ctx, RefundRequest{OrderID: "ord_1", IntentID: in.ID, Amount: 2000, Step: "r2"})
	if models.ErrorKind(err) != models.KindInvalid {
		t.Fatalf("refund above what is left: got %v, want invalid", err)
	}
}

func TestSandboxDeclined(t *testing.T) {
	g, _ := newSandbox(t)
	cases := []struct{ pm, code string }{
		{"pm_card_chargeDeclined", "generic_decline"},
		{"pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"},
	}
	for _, tc := range cases {
		in, err := g.Authorize(context.Background(), sandboxAuth("ord_"+tc.pm, tc.pm))
		var e *models.Error
		if !errors.As(err, &e) || e.Kind != models.KindPaymentDeclined {
			t.Fatalf("%s: got %v, want declined", tc.pm, err)
		}
		if e.Code != tc.code {
			t.Errorf("%s: code %q, want %q", tc.pm, e.Code, tc.code)
		}
		if in.ID == "" {
			t.Errorf("%s: declined intent id not returned", tc.pm)
		}
	}
}

func TestSandboxAuthenticationRequired(t *testing.T) {
	g, _ := newSandbox(t)
	in, err := g.Authorize(context.Background(), sandboxAuth("ord_3ds", "pm_card_authenticationRequired"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != IntentRequiresAction || !strings.HasPrefix(in.ClientSecret, in.ID+"_secret_") || in.NextActionType == "" {
		t.Fatalf("got %+v", in)
	}
}

func TestSandboxCancelIsRepeatable(t *testing.T) {
	g, _ := newSandbox(t)
	ctx := context.Background()
	in, err := g.Authorize(ctx, sandboxAuth("ord_c", "pm_card_visa"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := g.Cancel(ctx, "ord_c", in.ID, 1); err != nil || c.Status != IntentCanceled {
		t.Fatalf("cancel: %v %+v", err, c)
	}
	// Another key means Stripe really re-runs the cancel and answers
	// unexpected state; the gateway must still call it done.
	if c, err := g.Cancel(ctx, "ord_c_other", in.ID, 1); err != nil || c.Status != IntentCanceled {
		t.Fatalf("second cancel: %v %+v", err, c)
	}
	if _, err := g.Capture(ctx, "ord_c", in.ID, 2); models.ErrorKind(err) != models.KindConflict {
		t.Fatalf("capture of canceled intent: got %v, want conflict", err)
	}
}

func TestSandboxReconcilesLostAnswers(t *testing.T) {
	cases := []struct{ name, faults string }{
		{"work done then 500", `{"fail_after_next":1}`},
		{"connection dropped", `{"drop_next":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, base := newSandbox(t)
			ctx := context.Background()
			in, err := g.Authorize(ctx, sandboxAuth("ord_r", "pm_card_visa"))
			if err != nil {
				t.Fatal(err)
			}
			setFaults(t, base, tc.faults)
			got, err := g.Capture(ctx, "ord_r", in.ID, 1)
			if tc.name == "connection dropped" {
				// A dropped request may not have reached the work: either the
				// capture is reconciled or it fails as retryable, and a retry
				// with the same key then finishes it.
				if err != nil {
					if !retryable(err) {
						t.Fatalf("dropped capture: %v is not retryable", err)
					}
					got, err = g.Capture(ctx, "ord_r", in.ID, 2)
				}
			}
			if err != nil || got.Status != IntentSucceeded {
				t.Fatalf("capture: %v %+v", err, got)
			}
		})
	}
}

func TestSandboxSavedBuyer(t *testing.T) {
	g, _ := newSandbox(t)
	ctx := context.Background()
	cus, err := g.CreateCustomer(ctx, "ord_s", CustomerRequest{Name: "Ada Buyer", Email: "ada@example.com"})
	if err != nil || !strings.HasPrefix(cus, "cus_") {
		t.Fatalf("customer %q: %v", cus, err)
	}
	if again, err := g.CreateCustomer(ctx, "ord_s", CustomerRequest{Name: "Ada Buyer", Email: "ada@example.com"}); err != nil || again != cus {
		t.Fatalf("retried create made %q (%v), want %q", again, err, cus)
	}
	card, err := g.AttachPaymentMethodWithKey(ctx, "pm_card_visa", cus, "profile:p_s:card:r1")
	if err != nil || card.Brand != "visa" || card.Last4 != "4242" || card.ExpYear == 0 || !strings.HasPrefix(card.ID, "pm_") {
		t.Fatalf("attach: %v %+v", err, card)
	}
	r := sandboxAuth("ord_s", card.ID)
	r.Customer = cus
	if in, err := g.Authorize(ctx, r); err != nil || in.Status != IntentRequiresCapture {
		t.Fatalf("authorize saved buyer: %v %+v", err, in)
	}
	if err := g.DetachPaymentMethod(ctx, card.ID, "buyer:"+cus+":detach"); err != nil {
		t.Fatalf("detach: %v", err)
	}
}

// A capture that met a 500 Stripe keeps under its key: the next attempt
// reads the intent, sees it still held and captures under its own key.
func TestSandboxCaptureAfterCachedServerError(t *testing.T) {
	for _, faults := range []string{`{"fail_cached_next":1}`, `{"fail_cached_after_next":1}`} {
		t.Run(faults, func(t *testing.T) {
			g, base := newSandbox(t)
			ctx := context.Background()
			in, err := g.Authorize(ctx, sandboxAuth("ord_c5", "pm_card_visa"))
			if err != nil {
				t.Fatal(err)
			}
			setFaults(t, base, faults)
			got, err := g.Capture(ctx, "ord_c5", in.ID, 1)
			if err != nil {
				// Nothing done: the failure is retryable and the next
				// attempt captures.
				if !retryable(err) {
					t.Fatalf("capture meeting a cached 500: %v is not retryable", err)
				}
				got, err = g.Capture(ctx, "ord_c5", in.ID, 2)
			}
			if err != nil || got.Status != IntentSucceeded || got.AmountReceived != 2500 {
				t.Fatalf("capture: %v %+v", err, got)
			}
		})
	}
}

// A refund made at Stripe is found again by its tags after the keys were
// pruned, however the retry is numbered: one refund, never two.
func TestSandboxRefundSurvivesKeyPruning(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	g := New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()})
	ctx := context.Background()
	in, err := g.Authorize(ctx, sandboxAuth("ord_p", "pm_card_visa"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Capture(ctx, "ord_p", in.ID, 1); err != nil {
		t.Fatal(err)
	}
	req := RefundRequest{OrderID: "ord_p", IntentID: in.ID, Amount: 700, Step: "s1", Attempt: 1}
	first, err := g.Refund(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := sb.ExpireIdempotencyKeys(""); n == 0 {
		t.Fatal("no keys expired")
	}
	for _, attempt := range []int32{1, 2} {
		req.Attempt = attempt
		again, err := g.Refund(ctx, req)
		if err != nil || again.ID != first.ID {
			t.Fatalf("attempt %d after pruning: %+v %v, want %s", attempt, again, err, first.ID)
		}
	}
	if got := sb.Refunds(in.ID); len(got) != 1 {
		t.Fatalf("%d refunds at the sandbox, want 1", len(got))
	}
	// Another step is another refund.
	req.Step = "s2"
	if other, err := g.Refund(ctx, req); err != nil || other.ID == first.ID {
		t.Fatalf("another step: %+v %v", other, err)
	}
}

// Refund statuses are Stripe's: a pending refund is not reported succeeded.
func TestSandboxRefundStatuses(t *testing.T) {
	for pm, want := range map[string]string{"pm_card_visa": RefundSucceeded, "pm_card_pendingRefund": RefundPending} {
		g, _ := newSandbox(t)
		ctx := context.Background()
		in, err := g.Authorize(ctx, sandboxAuth("ord_st", pm))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.Capture(ctx, "ord_st", in.ID, 1); err != nil {
			t.Fatal(err)
		}
		rf, err := g.Refund(ctx, RefundRequest{OrderID: "ord_st", IntentID: in.ID, Amount: 100, Step: "s"})
		if err != nil || rf.Status != want {
			t.Fatalf("%s: refund %+v %v, want %s", pm, rf, err, want)
		}
	}
}

// setup_future_usage sets the card up by the payment itself: a first
// purchase authorizes with no customer and SaveOrderCard attaches the card
// to a new one after the answer; an order started before that change names
// its customer and the payment saves the card on it. Either way the saved
// card pays again for the customer.
func TestSandboxAuthorizeSavesTheCard(t *testing.T) {
	for _, customerFirst := range []bool{false, true} {
		g, _ := newSandbox(t)
		ctx := context.Background()
		r := sandboxAuth("ord_save", "pm_card_visa")
		r.SaveCard = true
		if customerFirst {
			cus, err := g.CreateCustomer(ctx, "ord_save", CustomerRequest{})
			if err != nil {
				t.Fatal(err)
			}
			r.Customer = cus
		}
		in, err := g.Authorize(ctx, r)
		if err != nil || in.Card == nil || in.Card.Last4 != "4242" || !strings.HasPrefix(in.Card.ID, "pm_") || in.Card.ID == "pm_card_visa" {
			t.Fatalf("authorize: %v %+v", err, in)
		}
		cus, card := r.Customer, *in.Card
		if !customerFirst {
			if cus, card, err = g.SaveOrderCard(ctx, "ord_save", in.Card.ID, 1); err != nil || card != *in.Card {
				t.Fatalf("saving the card after the payment: %v %+v", err, card)
			}
		}
		next := sandboxAuth("ord_save_2", card.ID)
		next.Customer = cus
		if again, err := g.Authorize(ctx, next); err != nil || again.Status != IntentRequiresCapture {
			t.Fatalf("customer first %v: paying with the saved card: %v %+v", customerFirst, err, again)
		}
	}
}

// The sandbox refuses what Stripe refuses: a card that paid without
// setup_future_usage, or already saved for another order, cannot be saved
// after the payment, and the refusal leaves no customer behind. A retry of a
// save whose answer was lost finds it done.
func TestSandboxSaveOrderCard(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	g := New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()})
	ctx := context.Background()
	pay := func(order string, save bool) string {
		r := sandboxAuth(order, "pm_card_visa")
		r.SaveCard = save
		r.Customer = ""
		in, err := g.Authorize(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !save {
			return sb.Intents()[len(sb.Intents())-1].PaymentMethod
		}
		return in.Card.ID
	}

	unsaved := pay("ord_nosfu", false)
	if _, _, err := g.SaveOrderCard(ctx, "ord_nosfu", unsaved, 1); models.ErrorKind(err) != models.KindInvalid {
		t.Fatalf("saving a card paid without setup_future_usage: %v", err)
	}
	if n := sb.CustomersFor("ord_nosfu"); n != 0 {
		t.Fatalf("a refused save left %d customers", n)
	}

	pm := pay("ord_sfu", true)
	cus, _, err := g.SaveOrderCard(ctx, "ord_sfu", pm, 1)
	if err != nil {
		t.Fatal(err)
	}
	if again, _, err := g.SaveOrderCard(ctx, "ord_sfu", pm, 2); err != nil || again != cus {
		t.Fatalf("a retry: %q %v, want %s", again, err, cus)
	}
	if _, _, err := g.SaveOrderCard(ctx, "ord_other", pm, 1); models.ErrorKind(err) != models.KindInvalid {
		t.Fatalf("saving a card already saved for another order: %v", err)
	}
	if n := sb.CustomersFor("ord_other"); n != 0 {
		t.Fatalf("a refused save left %d customers", n)
	}
	if n := sb.CustomersFor("ord_sfu"); n != 1 {
		t.Fatalf("the saved card's order has %d customers", n)
	}
}
