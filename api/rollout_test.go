package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/workflows"
)

const operatorToken = "op_token_for_tests_0123456789"

func mustGate(t testing.TB, s rollout.Settings) *rollout.Gate {
	t.Helper()
	g, err := rollout.NewGate(s)
	require.NoError(t, err)
	return g
}

func withRollout(s rollout.Settings) func(*Config) {
	return func(c *Config) {
		g, err := rollout.NewGate(s)
		if err != nil {
			panic(err)
		}
		c.Rollout = g
		c.AdminToken = operatorToken
	}
}

func TestProductTellsTheViewerWhetherBuyIsEnabled(t *testing.T) {
	e := newEnv(t, withRollout(rollout.Settings{Percent: 0, Allow: []string{buyerA}}))
	cases := []struct {
		name, auth string
		want       bool
	}{
		{"anonymous", "", false},
		{"allowlisted buyer", bearerOf(e.buyerToken(buyerA)), true},
		{"buyer outside the rollout", bearerOf(e.buyerToken(buyerB)), false},
		{"garbage token counts as anonymous", "Bearer not-a-jwt", false},
		{"merchant key counts as anonymous", bearerOf(keyA), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{method: http.MethodGet, path: "/v1/products/" + productID, auth: tc.auth})
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Equal(t, tc.want, decodeBody(t, w)["buy_enabled"])
		})
	}
}

func TestNilGateLetsNobodyBuy(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Rollout = nil })
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "k"}})
	requireError(t, w, http.StatusForbidden, codeNotInRollout)
}

func TestPurchaseOutsideTheRolloutIsRefusedBeforeAnything(t *testing.T) {
	e := newEnv(t, withRollout(rollout.Settings{Percent: 100, Deny: []string{buyerB}}))
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerB)), headers: map[string]string{"Idempotency-Key": "k1"}})
	requireError(t, w, http.StatusForbidden, codeNotInRollout)
	e.temporal.AssertNotCalled(t, "UpdateWithStartWorkflow", mock.Anything, mock.Anything)
	require.Empty(t, e.store.claims, "the idempotency key must not be claimed")

	// The per-merchant switch stops everyone, allowlisted or not.
	e = newEnv(t, withRollout(rollout.Settings{Percent: 100, Allow: []string{buyerA}, DisabledMerchants: []string{merchantA}}))
	w = e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "k1"}})
	requireError(t, w, http.StatusForbidden, codeNotInRollout)
}

func TestAdminRolloutChangesTheGateAtRunTime(t *testing.T) {
	e := newEnv(t, withRollout(rollout.Settings{Percent: 0}))
	op := bearerOf(operatorToken)
	buyer := bearerOf(e.buyerToken(buyerA))
	buy := func(key string) int {
		return e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil), auth: buyer,
			headers: map[string]string{"Idempotency-Key": key}}).Code
	}
	require.Equal(t, http.StatusForbidden, buy("before"))

	w := e.do(req{method: http.MethodGet, path: "/v1/admin/rollout", auth: op})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decodeBody(t, w)
	require.EqualValues(t, 0, got["percent"])
	require.Equal(t, []any{}, got["allow"])

	w = e.do(req{method: http.MethodPut, path: "/v1/admin/rollout", auth: op,
		body: `{"percent":5,"allow":["buyer_a"],"deny":[],"disabled_merchants":[]}`})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, []any{buyerA}, decodeBody(t, w)["allow"])

	e.expectPay(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized}}, nil).Once()
	require.Equal(t, http.StatusCreated, buy("after"))
}

func TestAdminRolloutRefusals(t *testing.T) {
	e := newEnv(t, withRollout(rollout.Settings{Percent: 7}))
	op := bearerOf(operatorToken)
	cases := []struct {
		name, method, auth, body string
		status                   int
		code                     string
	}{
		{"no token", http.MethodGet, "", "", 401, "unauthorized"},
		{"wrong token", http.MethodPut, "Bearer nope", `{"percent":100}`, 401, "unauthorized"},
		{"buyer token", http.MethodGet, bearerOf(e.buyerToken(buyerA)), "", 401, "unauthorized"},
		{"merchant key", http.MethodGet, bearerOf(keyA), "", 401, "unauthorized"},
		{"percent over 100", http.MethodPut, op, `{"percent":101}`, 400, rollout.CodeInvalidSettings},
		{"bad id", http.MethodPut, op, `{"percent":1,"allow":["no spaces allowed"]}`, 400, rollout.CodeInvalidSettings},
		{"unknown field", http.MethodPut, op, `{"percent":1,"everyone":true}`, 400, codeUnknownField},
		{"not an object", http.MethodPut, op, `[]`, 400, codeMalformedJSON},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{method: tc.method, path: "/v1/admin/rollout", auth: tc.auth, body: tc.body})
			requireError(t, w, tc.status, tc.code)
		})
	}
	// Nothing above changed the settings.
	w := e.do(req{method: http.MethodGet, path: "/v1/admin/rollout", auth: op})
	require.EqualValues(t, 7, decodeBody(t, w)["percent"])

	closed := newEnv(t) // no ADMIN_TOKEN: the endpoints are closed
	w = closed.do(req{method: http.MethodGet, path: "/v1/admin/rollout", auth: op})
	requireError(t, w, http.StatusForbidden, "operator_disabled")
}
