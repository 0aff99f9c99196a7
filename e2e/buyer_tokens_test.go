package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/buybutton/checkout/api"
)

// Tokens signed with the right secret but outside the claims policy are
// refused by the real API: a known-good token reaches the handler (404 for
// an order that does not exist), every other one answers 401.
func TestBuyerTokenClaimsOverTheRealStack(t *testing.T) {
	s := newStack(t, stackOptions{})
	now := time.Now()
	sign := func(change func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"sub": "buyer_claims", "iss": api.DefaultBuyerTokenIssuer, "aud": api.DefaultBuyerTokenAudience,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		change(c)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	s.do("GET", "/v1/orders/ord_nothing_here", sign(func(jwt.MapClaims) {}), nil, nil).expect(http.StatusNotFound)
	for name, change := range map[string]func(jwt.MapClaims){
		"100-year expiry":   func(c jwt.MapClaims) { c["exp"] = now.AddDate(100, 0, 0).Unix() },
		"iat in the future": func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix(); c["exp"] = now.Add(2 * time.Hour).Unix() },
		"another audience":  func(c jwt.MapClaims) { c["aud"] = "another-service" },
		"another issuer":    func(c jwt.MapClaims) { c["iss"] = "attacker" },
		"no iat":            func(c jwt.MapClaims) { delete(c, "iat") },
	} {
		if r := s.do("GET", "/v1/orders/ord_nothing_here", sign(change), nil, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, r.Status, r.Raw)
		}
	}
}
