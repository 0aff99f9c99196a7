package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

func TestCreateAndReadProduct(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: http.MethodPost, path: "/v1/products", auth: bearerOf(keyA),
		body: `{"title":"Mug","description":"Blue","price":1299,"currency":"EUR","stock":0,"max_per_order":2}`})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	created := decodeBody(t, w)
	require.Equal(t, "eur", created["currency"])
	require.Equal(t, merchantA, created["merchant_id"])
	id := created["id"].(string)

	// Public, without credentials; stock 0 means not available, and the count is not shown.
	w = e.do(req{method: http.MethodGet, path: "/v1/products/" + id})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	view := decodeBody(t, w)
	require.Equal(t, false, view["available"])
	require.EqualValues(t, 2, view["max_per_order"])
	require.EqualValues(t, 1299, view["price"])
	require.NotContains(t, view, "stock")

	w = e.do(req{method: http.MethodGet, path: "/v1/products/" + productID})
	require.Equal(t, true, decodeBody(t, w)["available"])
	w = e.do(req{method: http.MethodGet, path: "/v1/products/prod_off"})
	require.Equal(t, false, decodeBody(t, w)["available"])

	w = e.do(req{method: http.MethodGet, path: "/v1/products/prod_missing"})
	requireError(t, w, http.StatusNotFound, "not_found")

	w = e.do(req{method: http.MethodGet, path: "/v1/merchant/products", auth: bearerOf(keyB)})
	require.Equal(t, http.StatusOK, w.Code)
	require.Empty(t, decodeBody(t, w)["products"])
	w = e.do(req{method: http.MethodGet, path: "/v1/merchant/products?limit=1", auth: bearerOf(keyA)})
	require.Len(t, decodeBody(t, w)["products"], 1)
}

func TestCreateProductRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, body, auth string
		status           int
		code             string
	}{
		{"no key", `{"title":"Mug","price":1,"currency":"usd"}`, "", 401, "unauthorized"},
		{"buyer", `{"title":"Mug","price":1,"currency":"usd"}`, bearerOf(e.buyerToken(buyerA)), 401, "unauthorized"},
		{"no title", `{"price":1,"currency":"usd"}`, bearerOf(keyA), 400, "invalid_title"},
		{"float price", `{"title":"Mug","price":12.5,"currency":"usd"}`, bearerOf(keyA), 400, codeMalformedJSON},
		{"zero price", `{"title":"Mug","price":0,"currency":"usd"}`, bearerOf(keyA), 400, "invalid_price"},
		{"bad currency", `{"title":"Mug","price":1,"currency":"xyz"}`, bearerOf(keyA), 400, "invalid_currency"},
		{"merchant_id smuggled", `{"title":"Mug","price":1,"currency":"usd","merchant_id":"mer_b"}`, bearerOf(keyA), 400, codeUnknownField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireError(t, e.do(req{method: http.MethodPost, path: "/v1/products", body: tc.body, auth: tc.auth}), tc.status, tc.code)
		})
	}
}

func TestListMerchantOrders(t *testing.T) {
	e := newEnv(t)
	e.store.putOrder(models.Order{ID: "ord_1", MerchantID: merchantA, BuyerID: buyerA, Status: models.StatusAuthorized})
	e.store.putOrder(models.Order{ID: "ord_2", MerchantID: merchantA, BuyerID: buyerB, Status: models.StatusShipped})
	e.store.putOrder(models.Order{ID: "ord_3", MerchantID: merchantB, BuyerID: buyerA, Status: models.StatusAuthorized})

	cases := []struct {
		query  string
		status int
		count  int
		code   string
	}{
		{"", 200, 2, ""},
		{"?status=authorized", 200, 1, ""},
		{"?status=delivered", 200, 0, ""},
		{"?limit=1", 200, 1, ""},
		{"?limit=100", 200, 2, ""},
		{"?status=bogus", 400, 0, "invalid_status"},
		{"?limit=0", 400, 0, "invalid_limit"},
		{"?limit=101", 400, 0, "invalid_limit"},
		{"?limit=ten", 400, 0, "invalid_limit"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do(req{method: http.MethodGet, path: "/v1/merchant/orders" + tc.query, auth: bearerOf(keyA)})
			if tc.code != "" {
				requireError(t, w, tc.status, tc.code)
				return
			}
			require.Equal(t, tc.status, w.Code, w.Body.String())
			orders := decodeBody(t, w)["orders"].([]any)
			require.Len(t, orders, tc.count)
			for _, o := range orders {
				require.Equal(t, merchantA, o.(map[string]any)["merchant_id"])
			}
		})
	}
}
