package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

const rotatedSecret = "the-next-buyer-token-secret-0123456789"

// signed makes an HS256 token with claims and an optional kid.
func signed(t testing.TB, secret, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

func goodClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": buyerA, "iss": DefaultBuyerTokenIssuer, "aud": DefaultBuyerTokenAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for key, val := range c {
		out[key] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestBuyerTokenClaims(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.BuyerTokens = BuyerTokenPolicy{Keys: map[string][]byte{"k2": []byte(rotatedSecret)}}
	})
	now := time.Now()
	good := goodClaims(now)
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"minted", e.buyerToken(buyerA), true},
		{"no kid, the legacy secret", signed(t, testSecret, "", good), true},
		{"kid of the rotated key", signed(t, rotatedSecret, "k2", good), true},
		{"kid names another key than the signing one", signed(t, testSecret, "k2", good), false},
		{"unknown kid", signed(t, rotatedSecret, "k9", good), false},
		{"rotated key without kid", signed(t, rotatedSecret, "", good), false},
		{"wrong issuer", signed(t, testSecret, "", with(good, "iss", "someone-else")), false},
		{"no issuer", signed(t, testSecret, "", with(good, "iss", nil)), false},
		{"wrong audience", signed(t, testSecret, "", with(good, "aud", "another-service")), false},
		{"audience list holding ours", signed(t, testSecret, "", with(good, "aud", []string{"x", DefaultBuyerTokenAudience})), true},
		{"no audience", signed(t, testSecret, "", with(good, "aud", nil)), false},
		{"100-year expiry", signed(t, testSecret, "", with(good, "exp", now.AddDate(100, 0, 0).Unix())), false},
		{"just over the maximum lifetime", signed(t, testSecret, "", with(good, "exp", now.Add(DefaultBuyerTokenMaxLifetime+time.Minute).Unix())), false},
		{"no iat", signed(t, testSecret, "", with(good, "iat", nil)), false},
		{"iat in the future", signed(t, testSecret, "", with(good, "iat", now.Add(10*time.Minute).Unix())), false},
		{"iat within the leeway", signed(t, testSecret, "", with(good, "iat", now.Add(10*time.Second).Unix())), true},
		{"no exp", signed(t, testSecret, "", with(good, "exp", nil)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(req{method: http.MethodGet, path: "/v1/me/profile", auth: bearerOf(c.token)})
			if c.ok {
				require.NotEqual(t, http.StatusUnauthorized, w.Code, w.Body.String())
			} else {
				requireError(t, w, http.StatusUnauthorized, "unauthorized")
			}
		})
	}
}

func TestMintBuyerTokenWithKeyID(t *testing.T) {
	tok, err := MintBuyerTokenWith([]byte(rotatedSecret), BuyerTokenClaims{BuyerID: buyerA, KeyID: "k2", TTL: time.Minute})
	require.NoError(t, err)
	p := BuyerTokenPolicy{Keys: map[string][]byte{"k2": []byte(rotatedSecret)}}.withDefaults()
	sub, err := verifyBuyerToken(p, tok)
	require.NoError(t, err)
	require.Equal(t, buyerA, sub)
	_, err = MintBuyerToken([]byte(testSecret), buyerA, DefaultBuyerTokenMaxLifetime+time.Second)
	require.Error(t, err, "longer than the maximum lifetime")

	keys, err := ParseBuyerTokenKeys("k1=aaa; k2=bbb")
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{"k1": []byte("aaa"), "k2": []byte("bbb")}, keys)
	for _, bad := range []string{"k1", "=x", "k1=", "k1=a;k1=b", "k 1=a"} {
		_, err := ParseBuyerTokenKeys(bad)
		require.Error(t, err, bad)
	}
}

// FuzzBuyerToken feeds arbitrary strings to the verifier: it never panics,
// and whatever it accepts is signed by one of our keys with every claim
// within the policy.
func FuzzBuyerToken(f *testing.F) {
	now := time.Now()
	good := goodClaims(now)
	f.Add(signed(f, testSecret, "", good))
	f.Add(signed(f, rotatedSecret, "k2", good))
	f.Add(signed(f, testSecret, "k2", good))
	f.Add(signed(f, testSecret, "", with(good, "exp", now.AddDate(100, 0, 0).Unix())))
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJidXllcl9hIn0.")
	f.Add("a.b.c")
	f.Add("")
	p := BuyerTokenPolicy{Secret: []byte(testSecret), Keys: map[string][]byte{"k2": []byte(rotatedSecret)}}.withDefaults()
	f.Fuzz(func(t *testing.T, raw string) {
		sub, err := verifyBuyerToken(p, raw)
		if err != nil {
			return
		}
		var claims jwt.RegisteredClaims
		tok, perr := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseWithClaims(raw, &claims, func(tk *jwt.Token) (any, error) {
			if kid, ok := tk.Header["kid"].(string); ok {
				return p.Keys[kid], nil
			}
			return p.Secret, nil
		})
		if perr != nil || tok.Method.Alg() != "HS256" || claims.Subject != sub || claims.Issuer != p.Issuer ||
			claims.IssuedAt == nil || claims.ExpiresAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > p.MaxLifetime ||
			claims.IssuedAt.After(time.Now().Add(tokenLeeway+time.Second)) {
			t.Fatalf("accepted a token outside the policy: %q (%v, %+v)", raw, perr, claims)
		}
	})
}
