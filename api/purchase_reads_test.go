package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// Every purchase pays for its queries before it reaches Temporal (on SQLite
// they queue on one connection): the product is read once, not once per check.
func TestPurchaseReadsTheProductOnce(t *testing.T) {
	e := newEnv(t)
	e.expectPay(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized, Amount: 3000, Currency: "usd"}}, nil).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "reads-1"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	require.Equal(t, 1, e.store.productReads)
}

// Erasure must reach the store that holds the profile: DELETE /v1/me/profile
// never answers 204 without asking it to erase.
func TestDeleteProfileErasesThroughTheStore(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: http.MethodDelete, path: "/v1/me/profile", auth: bearerOf(e.buyerToken(buyerA))})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	require.Equal(t, 1, e.store.erasures)
}
