package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/rollout"
)

// TestCountriesRuleReadsTheTokensCountryClaim: with countries [NZ] only a
// token claiming NZ sees the button and may buy; no claim is outside.
func TestCountriesRuleReadsTheTokensCountryClaim(t *testing.T) {
	e := newEnv(t, withRollout(rollout.Settings{Percent: 100, Countries: []string{"NZ"}}))
	token := func(country string) string {
		tok, err := MintBuyerTokenWith([]byte(testSecret), BuyerTokenClaims{BuyerID: buyerA, TTL: time.Hour, Country: country})
		require.NoError(t, err)
		return bearerOf(tok)
	}
	for _, c := range []struct {
		country string
		want    bool
	}{{"NZ", true}, {"nz", true}, {"GB", false}, {"", false}} {
		w := e.do(req{method: http.MethodGet, path: "/v1/products/" + productID, auth: token(c.country)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, c.want, decodeBody(t, w)["buy_enabled"], "country %q", c.country)
	}
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: token("GB"), headers: map[string]string{"Idempotency-Key": "k-gb"}})
	requireError(t, w, http.StatusForbidden, codeNotInRollout)
	e.temporal.AssertNotCalled(t, "UpdateWithStartWorkflow", mock.Anything, mock.Anything)
}
