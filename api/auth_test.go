package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// jwtWith signs claims with alg by hand, so tests can build tokens the
// library would refuse to make (alg none).
func jwtWith(t *testing.T, alg string, claims map[string]any) (string, error) {
	t.Helper()
	if alg == "none" {
		h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
		c, _ := json.Marshal(claims)
		enc := base64.RawURLEncoding
		return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + ".", nil
	}
	return jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims(claims)).SignedString([]byte(testSecret))
}

func TestMintBuyerToken(t *testing.T) {
	tok, err := MintBuyerToken([]byte(testSecret), buyerA, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 3, len(strings.Split(tok, ".")))

	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	require.NoError(t, err)
	require.Equal(t, buyerA, claims.Subject)
	require.WithinDuration(t, time.Now().Add(time.Minute), claims.ExpiresAt.Time, 2*time.Second)

	for name, f := range map[string]func() (string, error){
		"empty secret": func() (string, error) { return MintBuyerToken(nil, buyerA, time.Minute) },
		"bad buyer id": func() (string, error) { return MintBuyerToken([]byte(testSecret), "a b", time.Minute) },
		"zero ttl":     func() (string, error) { return MintBuyerToken([]byte(testSecret), buyerA, 0) },
	} {
		_, err := f()
		require.Error(t, err, name)
	}
}

func TestEmptySecretRefusesEveryBuyerToken(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BuyerTokenSecret = nil })
	tok, err := MintBuyerToken([]byte(testSecret), buyerA, time.Minute)
	require.NoError(t, err)
	w := e.do(req{method: http.MethodGet, path: "/v1/orders/ord_x", auth: bearerOf(tok)})
	requireError(t, w, http.StatusUnauthorized, "unauthorized")
}

func TestMerchantKeys(t *testing.T) {
	e := newEnv(t)
	for name, auth := range map[string]string{
		"unknown key":       bearerOf("mk_unknown"),
		"inactive merchant": bearerOf("mk_inactive"),
		"buyer token":       bearerOf(e.buyerToken(buyerA)),
		"no credentials":    "",
		"lowercase scheme":  "bearer",
	} {
		t.Run(name, func(t *testing.T) {
			w := e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: auth})
			requireError(t, w, http.StatusUnauthorized, "unauthorized")
		})
	}
	w := e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: "bearer " + keyA})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
