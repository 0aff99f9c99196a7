package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

// Control and bidirectional-override characters are refused in every
// human text field, whatever the route, before anything is done with them.
func TestControlCharactersAreRefusedInText(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AdminToken = operatorToken })
	address := func(field, value string) string {
		a := map[string]string{"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}
		a[field] = value
		var b strings.Builder
		b.WriteString(`{"product_id":"` + productID + `","quantity":1,"payment_method":"pm_card_visa","shipping_address":{`)
		first := true
		for k, v := range a {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":"` + v + `"`)
		}
		b.WriteString("}}")
		return b.String()
	}
	buyer := bearerOf(e.buyerToken(buyerA))
	seedOrder(e, models.StatusAccepted)
	cases := []struct {
		name, method, path, auth, body string
		headers                        map[string]string
	}{
		{"NUL in a name", http.MethodPost, "/v1/purchases", buyer, address("name", `Ada\u0000Lovelace`), map[string]string{"Idempotency-Key": "t1"}},
		{"terminal escape in line1", http.MethodPost, "/v1/purchases", buyer, address("line1", `\u001b[2J12 St James`), map[string]string{"Idempotency-Key": "t2"}},
		{"newline in a city", http.MethodPost, "/v1/purchases", buyer, address("city", `London\nParis`), map[string]string{"Idempotency-Key": "t3"}},
		{"bidi override in a postal code", http.MethodPost, "/v1/purchases", buyer, address("postal_code", "SW1Y\u202e4JH"), map[string]string{"Idempotency-Key": "t4"}},
		{"C1 control in an email", http.MethodPut, "/v1/me/profile", buyer, `{"email":"ada\u0085@example.com"}`, nil},
		{"DEL in a phone", http.MethodPut, "/v1/me/profile", buyer, `{"phone":"+44 20\u007f 7946"}`, nil},
		{"escape in a merchant name", http.MethodPost, "/v1/merchants", bearerOf(operatorToken), `{"name":"Kiln\u001b]0;pwned\u0007"}`, nil},
		{"escape in a product title", http.MethodPost, "/v1/products", bearerOf(keyA), `{"title":"Mug\u001b[31m","price":100,"currency":"usd","stock":1}`, nil},
		{"escape in a product description", http.MethodPost, "/v1/products", bearerOf(keyA), `{"title":"Mug","description":"a\u001bb","price":100,"currency":"usd","stock":1}`, nil},
		{"NUL in a reject reason", http.MethodPost, "/v1/merchant/orders/" + orderA + "/reject", bearerOf(keyA), `{"reason":"no\u0000"}`, nil},
		{"escape in a carrier", http.MethodPost, "/v1/merchant/orders/" + orderA + "/ship", bearerOf(keyA), `{"carrier":"DHL\u001b","tracking_number":"1"}`, nil},
		{"escape in a refund reason", http.MethodPost, "/v1/merchant/orders/" + orderA + "/refund", bearerOf(keyA), `{"amount":1,"reason":"x\u001by"}`, map[string]string{"Idempotency-Key": "r1"}},
		{"escape in a cancel reason", http.MethodPost, "/v1/orders/" + orderA + "/cancel", buyer, `{"reason":"x\u001by"}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(req{method: c.method, path: c.path, auth: c.auth, body: c.body, headers: c.headers})
			requireError(t, w, http.StatusBadRequest, codeInvalidText)
		})
	}
	// A product description may span lines.
	w := e.do(req{method: http.MethodPost, path: "/v1/products", auth: bearerOf(keyA),
		body: `{"title":"Mug","description":"Glazed.\nDishwasher safe.\tMade by hand.","price":100,"currency":"usd","stock":1}`})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}
