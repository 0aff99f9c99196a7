package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

func TestBuyerOrdersListsOnlyTheCallersOrdersNewestFirst(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	put := func(id, buyer string, status models.OrderStatus, age time.Duration) {
		e.store.putOrder(models.Order{ID: id, BuyerID: buyer, MerchantID: merchantA, ProductID: productID, Quantity: 1,
			AmountMinor: 1500, Currency: "usd", Status: status, CreatedAt: now.Add(-age), UpdatedAt: now.Add(-age)})
	}
	put("ord_a_old", buyerA, models.StatusDelivered, 2*time.Hour)
	put("ord_a_new", buyerA, models.StatusAuthorized, time.Minute)
	put("ord_b_only", buyerB, models.StatusAuthorized, time.Second)

	w := e.do(req{method: http.MethodGet, path: "/v1/me/orders", auth: bearerOf(e.buyerToken(buyerA))})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NotContains(t, w.Body.String(), "ord_b_only")
	orders := decodeBody(t, w)["orders"].([]any)
	require.Len(t, orders, 2)
	first, second := orders[0].(map[string]any), orders[1].(map[string]any)
	require.Equal(t, "ord_a_new", first["id"])
	require.Equal(t, true, first["cancellable"])
	require.Equal(t, "ord_a_old", second["id"])
	require.Equal(t, false, second["cancellable"])

	page := e.do(req{method: http.MethodGet, path: "/v1/me/orders?limit=1", auth: bearerOf(e.buyerToken(buyerA))})
	require.Equal(t, http.StatusOK, page.Code, page.Body.String())
	require.NotEmpty(t, decodeBody(t, page)["next_cursor"])

	requireError(t, e.do(req{method: http.MethodGet, path: "/v1/me/orders"}), http.StatusUnauthorized, "")
	requireError(t, e.do(req{method: http.MethodGet, path: "/v1/me/orders?cursor=bogus", auth: bearerOf(e.buyerToken(buyerA))}),
		http.StatusBadRequest, "invalid_cursor")
}
