package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
)

// Browser tests drive Debian's chromium over the real stack: the demo page
// or a host page on another origin, the element, the sheet in its iframe,
// the sandbox's Stripe.js, the API, Temporal, the worker and Postgres.

func TestBrowserFirstPurchaseFromTheDemoPage(t *testing.T) {
	s := newStack(t, stackOptions{web: true, demoBuyer: "buyer_browser_first", webhooks: true})
	b := newBrowser(t)
	b.open(s.API.URL + "/demo")
	tapped := time.Now()
	b.tapBuy()
	b.fillAddress()
	t.Logf("sheet interactive %s after tapping Buy (element measured %s ms)", time.Since(tapped).Round(time.Millisecond), b.interactiveMs())
	b.fillCard("4242 4242 4242 4242")
	if got := b.sheetText("#view-form [data-total]"); !strings.Contains(got, "25.00") {
		t.Fatalf("total shown %q, want the API's 25.00", got)
	}
	b.tapSheet("#pay")
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	if got := b.sheetText("#done-status"); got != "authorized" {
		t.Fatalf("confirmation status %q", got)
	}
	orderID := b.sheetText("#done-order")
	o := s.order(orderID)
	if o.Status != models.StatusAuthorized || o.Shipping.City != "London" || o.Shipping.Line1 != "12 St James Square" || o.BuyerID != "buyer_browser_first" {
		t.Fatalf("stored order: %+v", o)
	}
	b.waitTop(`[...document.querySelectorAll("#event-log li")].some(li => li.dataset.type === "buybutton:purchase" && li.textContent.includes(`+jsString(orderID)+`))`,
		"the host page's buybutton:purchase")
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want 1", got)
	}
}

func TestBrowserRepeatPurchaseIsOneTap(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(10, 1250)
	buyer := s.buyer("buyer_browser_repeat")
	s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	waitProfile(t, s, "buyer_browser_repeat")

	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, buyer)))
	b.tapBuy()
	b.waitSheet(`!document.getElementById("view-onetap").hidden`, "the one-tap view")
	label := b.sheetText("#pay-onetap")
	if !strings.Contains(label, "Visa •••• 4242") || !strings.Contains(label, "ships to London") {
		t.Fatalf("one-tap button reads %q", label)
	}
	var cardInputs int
	if err := b.sheetEval(`document.querySelectorAll('[data-stripe="cardnumber"]').length`, &cardInputs); err != nil || cardInputs != 0 {
		t.Fatalf("a card form was shown (%d, %v)", cardInputs, err)
	}
	b.tapSheet("#pay-onetap") // the one tap after Buy
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	if got := b.sheetText("#done-status"); got != "authorized" {
		t.Fatalf("status %q", got)
	}
	orderID := b.sheetText("#done-order")
	if o := s.order(orderID); o.Status != models.StatusAuthorized || o.Shipping.City != "London" {
		t.Fatalf("repeat order: %+v", o)
	}
	b.waitTop(`window.events.some(e => e.type === "purchase" && e.detail.order_id === `+jsString(orderID)+` && e.detail.status === "authorized")`, "buybutton:purchase")
}

func (b *browser) interactiveMs() string {
	var ms string
	_ = b.evalErr(`document.querySelector("buy-button").dataset.interactiveMs || ""`, &ms)
	return ms
}

// waitProfile waits for the profile a first purchase saves after authorizing.
func waitProfile(t *testing.T, s *stack, buyerID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := s.Store.Profile(t.Context(), buyerID); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the first purchase saved no profile")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buyerOrders reads a buyer's orders from the store, newest first.
func buyerOrders(t *testing.T, s *stack, buyerID string) []models.Order {
	t.Helper()
	orders, _, err := s.Store.BuyerOrdersPage(t.Context(), buyerID, store.OrderPage{})
	if err != nil {
		t.Fatal(err)
	}
	return orders
}

func TestBrowserDeclinedCardThenFixedInTheSameSheet(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(10, 1250)
	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_decline"))))
	b.tapBuy()
	b.fillAddress()
	b.fillCard("4000 0000 0000 0002")
	b.tapSheet("#pay")
	b.waitSheet(`document.getElementById("card-error").textContent.includes("Your card was declined.")`, "the issuer's message")
	if got := b.sheetText("#alert"); !strings.Contains(got, "Nothing was charged") {
		t.Fatalf("alert reads %q", got)
	}
	orders := buyerOrders(t, s, "buyer_browser_decline")
	if len(orders) != 1 || orders[0].Status != models.StatusPaymentFailed || s.Sandbox.AuthorizationsFor(orders[0].ID) != 0 {
		t.Fatalf("after the decline: %+v", orders)
	}
	b.waitTop(`window.events.some(e => e.type === "error")`, "buybutton:error")

	b.typeSheet(`[data-stripe="cardnumber"]`, "4242424242424242")
	b.tapSheet("#pay")
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	orderID := b.sheetText("#done-order")
	if o := s.order(orderID); o.Status != models.StatusAuthorized || s.Sandbox.AuthorizationsFor(orderID) != 1 {
		t.Fatalf("after fixing the card: %+v", o)
	}
	if got := s.stock(productID); got != 9 {
		t.Fatalf("stock %d, want 9 (the declined order released its unit)", got)
	}
}

func TestBrowserThreeDSecure(t *testing.T) {
	for _, tc := range []struct {
		outcome string
		want    models.OrderStatus
	}{{"succeed", models.StatusAuthorized}, {"fail", models.StatusPaymentFailed}} {
		t.Run(tc.outcome, func(t *testing.T) {
			s := newStack(t, stackOptions{web: true, webhooks: true})
			productID := s.product(10, 1250)
			buyerID := "buyer_browser_3ds_" + tc.outcome
			b := newBrowser(t)
			b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer(buyerID))))
			b.tapBuy()
			b.fillAddress()
			b.fillCard("4000 0027 6000 3184")
			b.tapSheet("#pay")
			b.tapSheet(`[data-3ds="` + tc.outcome + `"]`)
			orders := func() []models.Order { return buyerOrders(t, s, buyerID) }
			if tc.want == models.StatusAuthorized {
				b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
				if got := b.sheetText("#done-status"); got != "authorized" {
					t.Fatalf("status %q", got)
				}
				if got := s.stock(productID); got != 9 {
					t.Fatalf("stock %d, want 9", got)
				}
			} else {
				b.waitSheet(`document.getElementById("alert").textContent.includes("did not confirm")`, "the failed-payment message")
				waitFor(t, "stock released", func() bool { return s.stock(productID) == 10 })
			}
			got := orders()
			if len(got) != 1 || got[0].Status != tc.want {
				t.Fatalf("orders: %+v", got)
			}
		})
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
