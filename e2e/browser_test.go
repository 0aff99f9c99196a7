package e2e

import (
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
)

// Browser tests drive Debian's chromium over the real stack: the demo page
// or a host page on another origin, the element, the sheet in its iframe,
// the sandbox's Stripe.js, the API, Temporal, the worker and Postgres.

func TestBrowserFirstPurchaseFromTheDemoPage(t *testing.T) {
	s := newStack(t, stackOptions{web: true, demoBuyer: "buyer_browser_first", webhooks: true})
	b := newBrowser(t)
	b.open(s.API.URL + "/demo")
	b.tapBuy()
	b.fillAddress()
	t.Logf("first-purchase sheet interactive %s ms after tapping Buy", b.interactiveMs())
	b.fillCard("4242 4242 4242 4242")
	// DOCS_SCREENSHOT=path keeps a picture of the filled sheet for the README.
	if path := os.Getenv("DOCS_SCREENSHOT"); path != "" {
		if err := b.sheetEval(`window.scrollTo(0, 0)`, nil); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil || os.WriteFile(path, png, 0o644) != nil {
			t.Fatalf("docs screenshot: %v", err)
		}
	}
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

// openSheet puts a product with stock units on the allowed host page and
// taps Buy on it as buyerID.
func openSheet(t *testing.T, s *stack, buyerID string, stock int) (*browser, string) {
	t.Helper()
	productID := s.product(stock, 1250)
	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer(buyerID))))
	b.tapBuy()
	return b, productID
}

// openAsReturningBuyer makes buyerID's first purchase through the API (it
// saves their details), then opens the sheet for them on the allowed host.
func openAsReturningBuyer(t *testing.T, s *stack, buyerID string) *browser {
	t.Helper()
	productID := s.product(10, 1250)
	buyer := s.buyer(buyerID)
	s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	waitProfile(t, s, buyerID)
	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, buyer)))
	b.tapBuy()
	return b
}

func TestBrowserRepeatPurchaseIsOneTap(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	b := openAsReturningBuyer(t, s, "buyer_browser_repeat")
	b.waitSheet(`!document.getElementById("view-onetap").hidden`, "the one-tap view")
	t.Logf("one-tap sheet interactive %s ms after tapping Buy", b.interactiveMs())
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
	b, productID := openSheet(t, s, "buyer_browser_decline", 10)
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

func TestBrowserRefusalsAndALostAnswer(t *testing.T) {
	t.Run("sold out", func(t *testing.T) {
		s := newStack(t, stackOptions{web: true})
		b, productID := openSheet(t, s, "buyer_browser_late", 1)
		b.fillAddress()
		b.fillCard("4242 4242 4242 4242")
		// Someone else takes the last one while this buyer types.
		s.purchase(s.buyer("buyer_browser_early"), "last-one", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
		b.tapSheet("#pay")
		b.waitSheet(`document.getElementById("alert").textContent.includes("sold out")`, "the sold-out message")
		var disabled bool
		if err := b.sheetEval(`document.getElementById("pay").disabled`, &disabled); err != nil || !disabled {
			t.Fatalf("Pay still enabled after sold out (%v)", err)
		}
		for _, o := range buyerOrders(t, s, "buyer_browser_late") {
			if s.Sandbox.AuthorizationsFor(o.ID) != 0 {
				t.Fatalf("a sold-out order was charged: %+v", o)
			}
		}
	})
	t.Run("not in rollout", func(t *testing.T) {
		s := newStack(t, stackOptions{web: true})
		b, productID := openSheet(t, s, "buyer_browser_out", 5)
		b.fillAddress()
		b.fillCard("4242 4242 4242 4242")
		// The operator closes the rollout while the sheet is open.
		s.do("PUT", "/v1/admin/rollout", e2eOperatorToken, nil,
			map[string]any{"percent": 0, "allow": []string{}, "deny": []string{}, "disabled_merchants": []string{}}).expect(http.StatusOK)
		b.tapSheet("#pay")
		b.waitSheet(`document.getElementById("alert").textContent.includes("isn't available on your account")`, "the rollout message")
		if got := buyerOrders(t, s, "buyer_browser_out"); len(got) != 0 {
			t.Fatalf("orders outside the rollout: %+v", got)
		}
		// Reloaded, the element offers no Buy button to this buyer.
		b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_out"))))
		b.waitTop(`document.querySelector("buy-button").shadowRoot.querySelector(".title")`, "the product card")
		var buttons int
		b.eval(`document.querySelector("buy-button").shadowRoot.querySelectorAll("button").length`, &buttons)
		if buttons != 0 {
			t.Fatal("a buyer outside the rollout sees a Buy button")
		}
	})
	t.Run("answer lost mid-pay", func(t *testing.T) {
		s := newStack(t, stackOptions{web: true})
		productID := s.product(5, 1250)
		b := newBrowser(t)
		b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_flaky"))))
		keys := b.loseFirstPurchaseAnswer()
		b.tapBuy()
		b.fillAddress()
		b.fillCard("4242 4242 4242 4242")
		b.tapSheet("#pay")
		b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
		got := keys()
		if len(got) < 2 || got[0] == "" || got[0] != got[1] {
			t.Fatalf("Idempotency-Keys of the attempts: %q, want the same key retried", got)
		}
		orders := buyerOrders(t, s, "buyer_browser_flaky")
		if len(orders) != 1 || orders[0].Status != models.StatusAuthorized || s.Sandbox.AuthorizationsFor(orders[0].ID) != 1 {
			t.Fatalf("orders after a lost answer: %+v", orders)
		}
	})
}

// loseFirstPurchaseAnswer lets the first POST /v1/purchases reach the API,
// then drops its answer as a broken connection would; later ones pass. It
// returns the Idempotency-Keys the sheet sent.
func (b *browser) loseFirstPurchaseAnswer() func() []string {
	b.t.Helper()
	var mu sync.Mutex
	var keys []string
	events := chromedp.Events(b.ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/v1/purchases", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		b.t.Fatal(err)
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			key := ""
			for k, v := range ev.Request.Headers {
				if strings.EqualFold(k, "Idempotency-Key") {
					key, _ = v.(string)
				}
			}
			mu.Lock()
			keys = append(keys, key)
			first := len(keys) == 1
			mu.Unlock()
			if first {
				_, _ = chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
				continue
			}
			_, _ = chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), keys...)
	}
}

// tabTo presses Tab until selector has the focus in the sheet.
func (b *browser) tabTo(selector string) {
	b.t.Helper()
	for range 40 {
		var ok bool
		if err := b.sheetEval(`document.hasFocus() && document.activeElement.matches(`+jsString(selector)+`)`, &ok); err == nil && ok {
			return
		}
		b.run(chromedp.KeyEvent(kb.Tab))
	}
	var at string
	_ = b.sheetEval(`document.activeElement.outerHTML`, &at)
	b.t.Fatalf("Tab never reached %s; focus is on %s", selector, at)
}

func TestBrowserKeyboardOnly(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(5, 1250)
	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_keys"))))
	b.waitTop(`document.querySelector("buy-button").shadowRoot.querySelector(".buy")`, "the Buy button")
	buyFocused := `document.activeElement === document.querySelector("buy-button") && document.querySelector("buy-button").shadowRoot.activeElement === document.querySelector("buy-button").shadowRoot.querySelector(".buy")`
	for i := 0; ; i++ {
		var ok bool
		b.eval(buyFocused, &ok)
		if ok {
			break
		}
		if i > 10 {
			t.Fatal("Tab never reached the Buy button")
		}
		b.run(chromedp.KeyEvent(kb.Tab))
	}
	b.run(chromedp.KeyEvent(kb.Enter))
	b.waitSheet(`!document.getElementById("view-form").hidden && document.hasFocus()`, "the form, focused")
	b.tabTo("#qty-plus")
	b.run(chromedp.KeyEvent(" ")) // two of them
	for _, f := range [][2]string{{"name", "Grace Hopper"}, {"line1", "1 Navy Way"}, {"city", "Arlington"},
		{"postal_code", "22202"}, {"country", "US"}} {
		b.tabTo(`[name="` + f[0] + `"]`)
		b.run(chromedp.KeyEvent(f[1]))
	}
	for _, f := range [][2]string{{"cardnumber", "4242424242424242"}, {"exp-date", "12/34"}, {"cvc", "123"}} {
		b.tabTo(`[data-stripe="` + f[0] + `"]`)
		b.run(chromedp.KeyEvent(f[1]))
	}
	// Pay is disabled while the total is being quoted, so Tab skips it
	// until the quote is in, as it would for anyone on a slow connection.
	b.waitSheet(`!document.getElementById("pay").disabled`, "Pay, once the total is quoted")
	b.tabTo("#pay")
	b.run(chromedp.KeyEvent(kb.Enter))
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	o := s.order(b.sheetText("#done-order"))
	if o.Status != models.StatusAuthorized || o.Quantity != 2 || o.Shipping.City != "Arlington" || o.Shipping.Country != "US" {
		t.Fatalf("keyboard order: %+v", o)
	}
	b.run(chromedp.KeyEvent(kb.Escape))
	b.waitTop(`!document.querySelector("buy-button").shadowRoot.querySelector("iframe")`, "the sheet to close")
	b.waitTop(buyFocused, "focus back on the Buy button")
	b.waitTop(`window.events.some(e => e.type === "close")`, "buybutton:close")
}

func TestBrowserYourOrders(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(10, 1250)
	mine := s.buyer("buyer_browser_mine")
	kept := s.purchase(mine, "o-1", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	toCancel := s.purchase(mine, "o-2", purchaseBody(productID, 2, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	theirs := s.purchase(s.buyer("buyer_browser_theirs"), "o-3", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")

	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, mine)))
	b.tapBuy()
	b.waitSheet(`document.getElementById("view-loading").hidden`, "the sheet to load")
	b.tapSheet("#orders-link")
	b.waitSheet(`document.querySelectorAll("#orders li").length === 2`, "two orders listed")
	var listed []string
	if err := b.sheetEval(`[...document.querySelectorAll("#orders li")].map(li => li.dataset.order)`, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0] != toCancel || listed[1] != kept {
		t.Fatalf("listed %v, want [%s %s] newest first", listed, toCancel, kept)
	}
	if strings.Contains(b.sheetText("#orders"), theirs) {
		t.Fatal("another buyer's order is listed")
	}
	b.tapSheet(`#orders li[data-order="` + toCancel + `"] button`)
	b.waitSheet(`document.querySelector('#orders li[data-order="`+toCancel+`"] .order-status').textContent === "cancelled"`, "the cancelled status")
	if o := s.order(toCancel); o.Status != models.StatusCancelled {
		t.Fatalf("cancelled order is %s", o.Status)
	}
	if o := s.order(kept); o.Status != models.StatusAuthorized {
		t.Fatalf("the other order is %s", o.Status)
	}
}

func TestBrowserOtherOrigins(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(10, 1250)
	mine, forged := s.buyer("buyer_browser_host"), s.buyer("buyer_browser_forged")
	s.purchase(forged, "saved", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	waitProfile(t, s, "buyer_browser_forged")
	b := newBrowser(t)

	t.Run("an allowed host on another origin embeds it; forged messages are ignored", func(t *testing.T) {
		// A frame from a foreign origin inside the host page keeps posting a
		// token (of a buyer with a saved card) to every frame, and a fake
		// purchase to the host.
		spammer := s.Foreign.page(`<!doctype html><script>
setInterval(function () {
  for (var i = 0; i < parent.frames.length; i++) {
    try { parent.frames[i].postMessage({type: "buybutton:init", token: ` + jsString(forged) + `}, "*"); } catch (e) {}
  }
  parent.postMessage({type: "buybutton:purchase", order_id: "ord_forged", status: "authorized"}, "*");
  parent.postMessage({type: "buybutton:close"}, "*");
}, 5);
</script>`)
		html := strings.Replace(postPage(s.API.URL, productID, mine), "<p>A post.</p>", `<p>A post.</p><iframe src="`+spammer+`"></iframe>`, 1)
		b.open(s.Host.page(html))
		b.tapBuy()
		// The buyer's own token arrived: no saved card, so the full form.
		b.waitSheet(`!document.getElementById("view-form").hidden`, "the first-purchase form for the host's buyer")
		time.Sleep(300 * time.Millisecond)
		var onetap, open bool
		if err := b.sheetEval(`!document.getElementById("view-onetap").hidden`, &onetap); err != nil || onetap {
			t.Fatalf("the sheet took a forged token (one-tap shown: %v, %v)", onetap, err)
		}
		b.eval(`!!document.querySelector("buy-button").shadowRoot.querySelector("iframe")`, &open)
		if !open {
			t.Fatal("a forged close message closed the sheet")
		}
		var events []map[string]any
		b.eval(`window.events`, &events)
		for _, e := range events {
			if e["type"] == "purchase" || e["type"] == "close" {
				t.Fatalf("the host heard a forged %v event: %v", e["type"], e)
			}
		}
	})

	sheetURL := s.API.URL + "/embed/v1/sheet?product=" + productID + "&host="
	framed := func(page string) bool {
		b.open(page)
		time.Sleep(time.Second)
		var loaded bool
		err := b.sheetEval(`!!document.getElementById("sheet")`, &loaded)
		return err == nil && loaded
	}
	t.Run("the sheet may be framed by an allowed host", func(t *testing.T) {
		if !framed(s.Host.page(`<iframe src="` + sheetURL + s.Host.URL + `"></iframe>`)) {
			t.Fatal("the allowed host could not frame the sheet")
		}
	})
	t.Run("the sheet refuses a host not in the list", func(t *testing.T) {
		// Claiming to be the allowed host does not help: frame-ancestors is checked by the browser.
		if framed(s.Foreign.page(`<iframe src="` + sheetURL + s.Host.URL + `"></iframe>`)) {
			t.Fatal("a foreign origin framed the sheet")
		}
		res := s.do("GET", "/embed/v1/sheet?product="+productID+"&host="+s.Foreign.URL, "", nil, nil)
		if res.Status != http.StatusForbidden || res.errorCode() != "embed_origin_not_allowed" {
			t.Fatalf("sheet for a foreign host: %d %s", res.Status, res.Raw)
		}
	})
	t.Run("a foreign page gets no product card", func(t *testing.T) {
		b.open(s.Foreign.page(postPage(s.API.URL, productID, mine)))
		b.waitTop(`window.events.some(e => e.type === "error")`, "buybutton:error (CORS refused)")
		var buttons int
		b.eval(`document.querySelector("buy-button").shadowRoot.querySelectorAll("button").length`, &buttons)
		if buttons != 0 {
			t.Fatal("a foreign page shows a Buy button")
		}
	})
}

func TestBrowserRateLimitedShowsRetryAfter(t *testing.T) {
	// One request per buyer: the sheet's profile read spends it, Pay is refused.
	s := newStack(t, stackOptions{web: true, rateLimits: api.RateLimits{Buyer: api.RateLimit{PerSecond: 1.0 / 3600, Burst: 1}}})
	b, _ := openSheet(t, s, "buyer_browser_hasty", 5)
	b.fillAddress()
	b.fillCard("4242 4242 4242 4242")
	b.tapSheet("#pay")
	b.waitSheet(`/Too many attempts\. Please wait \d+ s/.test(document.getElementById("alert").textContent)`, "the rate-limit message with its wait")
	b.waitTop(`window.events.some(e => e.type === "error" && e.detail.code === "rate_limited")`, "buybutton:error rate_limited")
	if got := buyerOrders(t, s, "buyer_browser_hasty"); len(got) != 0 {
		t.Fatalf("orders despite the limit: %+v", got)
	}
}

func TestBrowserChangeCardFromTheOneTapView(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	b := openAsReturningBuyer(t, s, "buyer_browser_newcard")
	b.tapSheet("#change-card")
	b.fillCard("5555 5555 5555 4444")
	b.tapSheet("#pay")
	b.waitSheet(`!document.getElementById("view-onetap").hidden && document.getElementById("onetap-card").textContent === "Mastercard •••• 4444"`,
		"the one-tap view with the new card")
	b.tapSheet("#pay-onetap")
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	o := s.order(b.sheetText("#done-order"))
	if o.Status != models.StatusAuthorized {
		t.Fatalf("order with the new card: %+v", o)
	}
	p, err := s.Store.Profile(t.Context(), "buyer_browser_newcard")
	if err != nil || p.Card.Last4 != "4444" || p.Card.Brand != "mastercard" {
		t.Fatalf("saved card after the change: %+v, %v", p.Card, err)
	}
}

func TestBrowserSheetIsFullScreenOnAPhone(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID := s.product(5, 1250)
	b := newBrowser(t)
	b.run(chromedp.EmulateViewport(375, 667))
	b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_phone"))))
	b.tapBuy()
	b.waitSheet(`!document.getElementById("view-form").hidden`, "the form")
	// Once its entry animation is over, the sheet covers the whole phone screen.
	b.waitTop(`(function(){var r=document.querySelector("buy-button").shadowRoot.querySelector("iframe").getBoundingClientRect();`+
		`return r.x === 0 && r.y === 0 && r.width === 375 && r.height === 667})()`, "the sheet to fill the 375×667 screen")
	var title, allow string
	b.eval(`document.querySelector("buy-button").shadowRoot.querySelector("iframe").title`, &title)
	b.eval(`document.querySelector("buy-button").shadowRoot.querySelector("iframe").allow`, &allow)
	if !strings.HasPrefix(title, "Checkout: ") || allow != "payment" {
		t.Fatalf("iframe title %q, allow %q", title, allow)
	}
}

func TestBrowserSlowPaymentIsPolledToItsOutcome(t *testing.T) {
	s := newStack(t, stackOptions{web: true, payWait: 300 * time.Millisecond})
	b, _ := openSheet(t, s, "buyer_browser_slow", 5)
	b.fillAddress()
	b.fillCard("4242 4242 4242 4242")
	// The authorization takes longer than the API waits: it answers 202 pending.
	s.Sandbox.SetFaults(sandbox.Faults{Latency: 1500 * time.Millisecond, Only: "/v1/payment_intents"})
	b.tapSheet("#pay")
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation after polling")
	if got := b.sheetText("#done-status"); got != "authorized" {
		t.Fatalf("status after polling %q", got)
	}
	if o := s.order(b.sheetText("#done-order")); o.Status != models.StatusAuthorized {
		t.Fatalf("order: %+v", o)
	}
}

// choose picks value in a select of the sheet, as a buyer's pick fires change.
func (b *browser) choose(selector, value string) {
	b.t.Helper()
	b.waitSheet(`[...document.querySelectorAll(`+jsString(selector+" option")+`)].some(o => o.value === `+jsString(value)+`)`, selector+" offering "+value)
	if err := b.sheetEval(`(function(){var s=document.querySelector(`+jsString(selector)+`);s.value=`+jsString(value)+`;s.dispatchEvent(new Event("change"))})()`, nil); err != nil {
		b.t.Fatal(err)
	}
}

// The buyer picks a variant and a rate, sees subtotal, shipping, tax and
// total from the quote before Pay, and the PaymentIntent is that total: to
// London (VAT inside) and then, changing the address, to California (sales
// tax added) with the express rate.
func TestBrowserQuotedTotalBeforePayIsCharged(t *testing.T) {
	s := newStack(t, stackOptions{web: true})
	productID, variants := s.catalogueShirt()
	b := newBrowser(t)
	b.open(s.Host.page(postPage(s.API.URL, productID, s.buyer("buyer_browser_quote"))))
	// The card: the first image, and the lowest of the variants' prices.
	b.waitTop(`document.querySelector("buy-button").shadowRoot.querySelector(".price")`, "the product card")
	var card struct{ Price, Image string }
	b.eval(`(function(){var r=document.querySelector("buy-button").shadowRoot;return {Price:r.querySelector(".price").textContent,Image:r.querySelector(".img img").getAttribute("src")}})()`, &card)
	if card.Price != "From $20.00" || card.Image != "https://127.0.0.1:9/tshirt.jpg" {
		t.Fatalf("card shows %+v", card)
	}
	b.tapBuy()
	b.fillAddress()
	b.fillCard("4242 4242 4242 4242")
	b.choose("#variant", variants["TS-L-WHT"])
	b.tapSheet("#qty-plus")
	shows := func(want map[string]string) {
		t.Helper()
		for sel, text := range want {
			b.waitSheet(`document.querySelector(`+jsString(sel)+`).textContent.trim() === `+jsString(text), sel+" = "+text)
		}
	}
	// 2 × 22.50 + 6.99 Royal Mail; VAT 20 % inside: 7.50 + 1.17.
	shows(map[string]string{"#q-subtotal": "$45.00", "#q-shipping": "$6.99", "#q-tax-name": "VAT (included)",
		"#q-tax": "$8.67", "#view-form [data-total]": "$51.99"})

	// To California: ground (free from 100.00, so 8.00 here) or express.
	b.typeSheet(`[name="region"]`, "CA")
	b.typeSheet(`[name="postal_code"]`, "94105")
	b.typeSheet(`[name="country"]`, "US")
	b.typeSheet(`[name="city"]`, "San Francisco")
	shows(map[string]string{"#q-shipping": "$8.00", "#q-tax-name": "Sales tax", "#q-tax": "$3.26", "#view-form [data-total]": "$56.26"})
	b.choose("#rate", "us-express")
	shows(map[string]string{"#q-shipping": "$25.00", "#view-form [data-total]": "$73.26"})
	shown := b.sheetText("#view-form [data-total]")

	b.tapSheet("#pay")
	b.waitSheet(`!document.getElementById("view-done").hidden`, "the confirmation")
	orderID := b.sheetText("#done-order")
	if got := s.intentAmount(orderID); got != 7326 {
		t.Fatalf("PaymentIntent amount %d, the sheet showed %s", got, shown)
	}
	o := s.order(orderID)
	if o.VariantID != variants["TS-L-WHT"] || o.ShippingCharge.RateID != "us-express" || o.Tax.Amount != 326 || o.QuoteID == "" {
		t.Fatalf("order pricing: %+v", o.OrderPricing)
	}
}
