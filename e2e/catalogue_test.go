package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
)

// A T-shirt in two sizes and two colours, shipped to the UK (VAT 20 %
// inside the price, shipping taxed) and to California (sales tax 7.25 %
// added, shipping not taxed).
func (s *stack) catalogueShirt() (productID string, variants map[string]string) {
	s.t.Helper()
	res := s.do("POST", "/v1/products", s.MerchantKey, nil, map[string]any{
		"title": "T-shirt", "price": 2000, "currency": "usd", "max_per_order": 5,
		"options": []any{
			map[string]any{"name": "size", "values": []string{"M", "L"}},
			map[string]any{"name": "colour", "values": []string{"black", "white"}},
		},
		"variants": []any{
			map[string]any{"sku": "TS-M-BLK", "options": map[string]string{"size": "M", "colour": "black"}, "stock": 10},
			map[string]any{"sku": "TS-L-WHT", "options": map[string]string{"size": "L", "colour": "white"}, "price": 2250, "stock": 10},
		},
		// Loopback only: the browser test renders it and must send nothing out.
		"images": []string{"https://127.0.0.1:9/tshirt.jpg"},
	}).expect(http.StatusCreated)
	var d models.ProductDetail
	if err := json.Unmarshal([]byte(res.Raw), &d); err != nil {
		s.t.Fatal(err)
	}
	variants = map[string]string{}
	for _, v := range d.Variants {
		variants[v.SKU] = v.ID
	}
	s.setShipping(699)
	s.do("PUT", "/v1/merchant/tax", s.MerchantKey, nil, map[string]any{"rates": []any{
		map[string]any{"country": "GB", "name": "VAT", "rate_bps": 2000, "inclusive": true, "shipping_taxed": true},
		map[string]any{"country": "US", "region": "CA", "name": "Sales tax", "rate_bps": 725},
	}}).expect(http.StatusOK)
	return d.ID, variants
}

// setShipping sets the UK standard rate to gbStandard; the US has ground
// (free from 100.00) and express.
func (s *stack) setShipping(gbStandard int64) {
	s.t.Helper()
	s.do("PUT", "/v1/merchant/shipping", s.MerchantKey, nil, map[string]any{"zones": []any{
		map[string]any{"name": "United Kingdom", "countries": []string{"GB"}, "rates": []any{
			map[string]any{"id": "uk-standard", "name": "Royal Mail", "amount": gbStandard, "currency": "usd", "min_days": 2, "max_days": 4},
		}},
		map[string]any{"name": "United States", "countries": []string{"US"}, "rates": []any{
			map[string]any{"id": "us-ground", "name": "Ground", "amount": 800, "currency": "usd", "min_days": 3, "max_days": 6, "free_above": 10000},
			map[string]any{"id": "us-express", "name": "Express", "amount": 2500, "currency": "usd", "min_days": 1, "max_days": 2},
		}},
	}}).expect(http.StatusOK)
}

func californiaAddress() map[string]any {
	return map[string]any{"name": "Grace Hopper", "line1": "1 Market St", "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US"}
}

func (s *stack) quote(token string, body map[string]any) models.Quote {
	s.t.Helper()
	res := s.do("POST", "/v1/quotes", token, nil, body).expect(http.StatusCreated)
	var q models.Quote
	if err := json.Unmarshal([]byte(res.Raw), &q); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("quote %s → lines %d×%d=%d, subtotal %d, shipping %s %d (tax %d), tax %s %d bps inclusive=%v: %d, total %d %s",
		q.VariantID, q.Lines[0].Quantity, q.Lines[0].UnitPrice, q.Lines[0].Amount, q.Subtotal, q.Shipping.RateID,
		q.Shipping.Amount, q.Shipping.Tax, q.Tax.Name, q.Tax.RateBps, q.Tax.Inclusive, q.Tax.Amount, q.Total, q.Currency)
	return q
}

func (s *stack) intentAmount(orderID string) int64 {
	s.t.Helper()
	for _, pi := range s.Sandbox.Intents() {
		if pi.OrderID == orderID {
			return pi.Amount
		}
	}
	s.t.Fatalf("no payment intent for order %s", orderID)
	return 0
}

// Quote → purchase → the PaymentIntent's amount is the quoted total, to two
// countries with different tax rules; the order and the merchant's
// order.created carry the lines, shipping, tax and total.
func TestQuotedTotalIsWhatIsCharged(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID, variants := s.catalogueShirt()
	buyer := s.buyer("buyer_quote")

	cases := []struct {
		name    string
		quote   map[string]any
		address map[string]any
		total   int64
	}{
		// 2 × 22.50 = 45.00 + 6.99; VAT inside: 7.50 + 1.17 (6.99 / 6 = 1.165 → 1.17).
		{"UK, VAT inclusive", map[string]any{"product_id": productID, "options": map[string]string{"size": "L", "colour": "white"},
			"quantity": 2, "shipping_address": map[string]any{"country": "GB", "postal_code": "SW1Y 4JH"}}, address(), 5199},
		// 3 × 20.00 = 60.00 + 25.00 express; 7.25 % of 60.00 = 4.35 added.
		{"California, sales tax exclusive", map[string]any{"product_id": productID, "variant_id": variants["TS-M-BLK"], "quantity": 3,
			"shipping_address": map[string]any{"country": "US", "region": "CA", "postal_code": "94105"}, "shipping_rate": "us-express"}, californiaAddress(), 8935},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := s.quote(buyer, c.quote)
			if q.Total != c.total {
				t.Fatalf("quoted total %d, want %d", q.Total, c.total)
			}
			res := s.purchase(buyer, "quoted-"+string(rune('a'+i)), map[string]any{
				"product_id": productID, "quantity": q.Quantity, "quote_id": q.ID,
				"shipping_address": c.address, "payment_method": "pm_card_visa", "save_details": false,
			}).expect(http.StatusCreated)
			orderID := res.str("order_id")
			if res.Body["amount"] != float64(q.Total) {
				t.Fatalf("purchase answered %v, quoted %d", res.Body["amount"], q.Total)
			}
			if got := s.intentAmount(orderID); got != q.Total {
				t.Fatalf("PaymentIntent amount %d, quoted total %d", got, q.Total)
			}
			view := s.do("GET", "/v1/orders/"+orderID, buyer, nil, nil).expect(http.StatusOK)
			var o models.Order
			if err := json.Unmarshal([]byte(view.Raw), &o); err != nil {
				t.Fatal(err)
			}
			if o.TotalMinor != q.Total || o.AmountMinor != q.Total || o.VariantID != q.VariantID || o.QuoteID != q.ID ||
				len(o.Lines) != 1 || o.Lines[0].SKU == "" || o.Tax == nil || *o.Tax != q.Tax || o.ShippingCharge.Amount != q.Shipping.Amount {
				t.Fatalf("order does not carry the quote's pricing: %s", view.Raw)
			}
			s.waitDelivery(orderID, "order.created", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })
			var ev struct {
				Data activities.WebhookOrder `json:"data"`
			}
			hook.mu.Lock()
			body := hook.bodies[activities.EventID(orderID, "order.created")]
			hook.mu.Unlock()
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Data.Total != q.Total || ev.Data.Amount != q.Total || len(ev.Data.Lines) != 1 || ev.Data.Lines[0].VariantID != q.VariantID ||
				ev.Data.Lines[0].Options == nil || ev.Data.Tax == nil || ev.Data.Tax.Amount != q.Tax.Amount || ev.Data.Shipping == nil ||
				ev.Data.Shipping.Name == "" || ev.Data.Subtotal != q.Subtotal {
				t.Fatalf("order.created lacks the pricing: %s", body)
			}
		})
	}
	list := s.do("GET", "/v1/merchant/orders", s.MerchantKey, nil, nil).expect(http.StatusOK)
	s.refundALine(list)
	var page struct {
		Orders []models.Order `json:"orders"`
	}
	if err := json.Unmarshal([]byte(list.Raw), &page); err != nil || len(page.Orders) != 2 {
		t.Fatalf("merchant list: %v %s", err, list.Raw)
	}
	for _, o := range page.Orders {
		if len(o.Lines) != 1 || o.Tax == nil || o.ShippingCharge == nil || o.TotalMinor != o.AmountMinor {
			t.Fatalf("merchant list order lacks pricing: %+v", o)
		}
	}
}

// A shipping rate that changes between the quote and the purchase: 409
// quote_expired with the new quote, nothing reserved or charged; paying the
// new quote charges its total.
func TestRateChangeAfterTheQuoteAnswersANewQuote(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID, variants := s.catalogueShirt()
	buyer := s.buyer("buyer_rate")
	q := s.quote(buyer, map[string]any{"product_id": productID, "variant_id": variants["TS-M-BLK"], "quantity": 1,
		"shipping_address": map[string]any{"country": "GB", "postal_code": "SW1Y 4JH"}})
	s.setShipping(999)
	body := map[string]any{"product_id": productID, "quantity": 1, "quote_id": q.ID,
		"shipping_address": address(), "payment_method": "pm_card_visa", "save_details": false}
	refused := s.purchase(buyer, "rate-1", body).expect(http.StatusConflict)
	if refused.errorCode() != models.CodeQuoteExpired {
		t.Fatalf("refusal: %s", refused.Raw)
	}
	raw, _ := json.Marshal(refused.Body["quote"])
	var fresh models.Quote
	if err := json.Unmarshal(raw, &fresh); err != nil || fresh.ID == "" || fresh.ID == q.ID {
		t.Fatalf("no new quote in %s", refused.Raw)
	}
	t.Logf("quoted %d, then %d after the rate change", q.Total, fresh.Total)
	if fresh.Total != q.Total+300 || fresh.Shipping.Amount != 999 {
		t.Fatalf("new quote total %d (shipping %d), want %d", fresh.Total, fresh.Shipping.Amount, q.Total+300)
	}
	if n := len(s.Sandbox.Intents()); n != 0 {
		t.Fatalf("%d PaymentIntents after a refused quote", n)
	}
	d, err := s.Store.ProductDetail(t.Context(), productID)
	if err != nil || d.Variants[0].Stock != 10 {
		t.Fatalf("stock after the refusal: %v %+v", err, d.Variants)
	}

	body["quote_id"] = fresh.ID
	res := s.purchase(buyer, "rate-2", body).expect(http.StatusCreated)
	if got := s.intentAmount(res.str("order_id")); got != fresh.Total {
		t.Fatalf("charged %d, new quote said %d", got, fresh.Total)
	}
}

// The one-tap repeat quotes with the saved address: no address in the
// quote nor in the purchase, and the intent is the quoted total.
func TestOneTapRepeatQuotesTheSavedAddress(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID, variants := s.catalogueShirt()
	buyer := s.buyer("buyer_onetap")
	first := purchaseBody(productID, 1, "pm_card_visa")
	first["variant_id"] = variants["TS-M-BLK"]
	s.purchase(buyer, "first", first).expect(http.StatusCreated)
	s.awaitProfile(buyer)

	q := s.quote(buyer, map[string]any{"product_id": productID, "variant_id": variants["TS-L-WHT"], "quantity": 1})
	// 22.50 + 6.99 to the saved London address, VAT inside.
	if q.Total != 2949 || q.Shipping.RateID != "uk-standard" || q.Tax.Amount != 375+117 {
		t.Fatalf("one-tap quote: %+v", q)
	}
	tap := s.purchase(buyer, "tap", map[string]any{"product_id": productID, "quantity": 1, "quote_id": q.ID}).expect(http.StatusCreated)
	if got := s.intentAmount(tap.str("order_id")); got != q.Total {
		t.Fatalf("one tap charged %d, quoted %d", got, q.Total)
	}
	anon := s.do("POST", "/v1/quotes", "", nil, map[string]any{"product_id": productID, "variant_id": variants["TS-L-WHT"], "quantity": 1})
	anon.expect(http.StatusBadRequest)
}

// refundALine accepts the California order (3 × 20.00, 4.35 tax added) and
// refunds one unit by line: 21.45, its share of the price and of the tax;
// four units are refused.
func (s *stack) refundALine(list response) {
	s.t.Helper()
	var page struct {
		Orders []models.Order `json:"orders"`
	}
	if err := json.Unmarshal([]byte(list.Raw), &page); err != nil {
		s.t.Fatal(err)
	}
	var o models.Order
	for _, x := range page.Orders {
		if x.Quantity == 3 {
			o = x
		}
	}
	s.merchantAction(o.ID, "accept", nil).expect(http.StatusOK)
	refund := func(key string, qty int) response {
		return s.do("POST", "/v1/merchant/orders/"+o.ID+"/refund", s.MerchantKey, map[string]string{"Idempotency-Key": key},
			map[string]any{"lines": []any{map[string]any{"variant_id": o.VariantID, "quantity": qty}}})
	}
	if res := refund("line-4", 4).expect(http.StatusBadRequest); res.errorCode() != "invalid_refund_quantity" {
		s.t.Fatalf("refund of 4 units: %s", res.Raw)
	}
	res := refund("line-1", 1).expect(http.StatusOK)
	r, _ := res.Body["refund"].(map[string]any)
	if r["amount"] != float64(2145) {
		s.t.Fatalf("line refund: %s", res.Raw)
	}
}
