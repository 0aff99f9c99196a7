package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/buybutton/checkout/models"
)

// Buyer tokens are HS256 JWTs the platform mints for a signed-in buyer. The
// API checks the algorithm (pinned), the signature under the key the header's
// kid names, iss and aud, exp (required, and at most MaxLifetime after iat),
// and iat (required, not in the future beyond tokenLeeway).
//
// Why shared secrets with key ids rather than public keys: the platform that
// mints these tokens and this API are run by the same operator, every
// existing client already speaks HS256, and minting in development and tests
// stays a one-liner. Rotation is a kid with several accepted secrets; the
// 32-byte minimum (checkout api refuses less) rules out offline brute force.
// The cost, that the API could mint tokens itself, is bounded by the short
// maximum lifetime and by the API being the only reader of the secrets.

// tokenLeeway tolerates small clock differences with the platform that mints tokens.
const tokenLeeway = 30 * time.Second

// Defaults of the buyer-token settings (BUYER_TOKEN_ISSUER, _AUDIENCE,
// _MAX_LIFETIME).
const (
	DefaultBuyerTokenIssuer      = "buybutton-platform"
	DefaultBuyerTokenAudience    = "checkout"
	DefaultBuyerTokenMaxLifetime = 24 * time.Hour
)

// BuyerTokenPolicy is what a buyer token must satisfy.
type BuyerTokenPolicy struct {
	// Secret verifies tokens without a kid (BUYER_TOKEN_SECRET); nil refuses them.
	Secret []byte
	// Keys verify tokens by their kid (BUYER_TOKEN_KEYS): during a rotation
	// the old and the new key are both here.
	Keys        map[string][]byte
	Issuer      string        // default DefaultBuyerTokenIssuer
	Audience    string        // default DefaultBuyerTokenAudience
	MaxLifetime time.Duration // exp - iat at most this; default DefaultBuyerTokenMaxLifetime
}

func (p BuyerTokenPolicy) withDefaults() BuyerTokenPolicy {
	if p.Issuer == "" {
		p.Issuer = DefaultBuyerTokenIssuer
	}
	if p.Audience == "" {
		p.Audience = DefaultBuyerTokenAudience
	}
	if p.MaxLifetime <= 0 {
		p.MaxLifetime = DefaultBuyerTokenMaxLifetime
	}
	return p
}

// ParseBuyerTokenKeys reads BUYER_TOKEN_KEYS: "kid=secret" pairs separated
// by ";" or ",".
func ParseBuyerTokenKeys(spec string) (map[string][]byte, error) {
	keys := map[string][]byte{}
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == ',' }) {
		kid, secret, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || secret == "" || !validKeyID(kid) {
			return nil, fmt.Errorf("buyer token keys: want kid=secret pairs, got %q", part)
		}
		if _, dup := keys[kid]; dup {
			return nil, fmt.Errorf("buyer token keys: kid %q appears twice", kid)
		}
		keys[kid] = []byte(secret)
	}
	return keys, nil
}

// validKeyID: 1 to 64 letters, digits, '_' or '-'.
func validKeyID(kid string) bool {
	if kid == "" || len(kid) > 64 {
		return false
	}
	for _, r := range kid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// BuyerTokenClaims says what MintBuyerTokenWith puts in a token.
type BuyerTokenClaims struct {
	BuyerID  string
	KeyID    string // "" for a token verified by BUYER_TOKEN_SECRET
	Issuer   string // default DefaultBuyerTokenIssuer
	Audience string // default DefaultBuyerTokenAudience
	TTL      time.Duration
	// MaxLifetime bounds TTL; default DefaultBuyerTokenMaxLifetime.
	MaxLifetime time.Duration
	// Country is the buyer's country as the platform knows it (ISO 3166-1
	// alpha-2, claim "country"); a rollout's countries rule matches it.
	Country string
}

// buyerJWT is the token's claims: the registered ones and the country.
type buyerJWT struct {
	jwt.RegisteredClaims
	Country string `json:"country,omitempty"`
}

// buyerIdentity is who a verified token speaks for.
type buyerIdentity struct {
	ID      string
	Country string // upper-case, "" when the token has none
}

// MintBuyerToken makes the token a platform hands to a signed-in buyer, with
// the default issuer and audience and no key id, valid for ttl (at most
// DefaultBuyerTokenMaxLifetime).
func MintBuyerToken(secret []byte, buyerID string, ttl time.Duration) (string, error) {
	return MintBuyerTokenWith(secret, BuyerTokenClaims{BuyerID: buyerID, TTL: ttl})
}

// MintBuyerTokenWith makes a buyer token with the given claims.
func MintBuyerTokenWith(secret []byte, c BuyerTokenClaims) (string, error) {
	p := BuyerTokenPolicy{Issuer: c.Issuer, Audience: c.Audience, MaxLifetime: c.MaxLifetime}.withDefaults()
	switch {
	case len(secret) == 0:
		return "", errors.New("buyer token secret is empty")
	case !models.ValidID(c.BuyerID):
		return "", errors.New("buyer id is not a valid id")
	case c.TTL <= 0:
		return "", errors.New("token ttl must be positive")
	case c.TTL > p.MaxLifetime:
		return "", fmt.Errorf("token ttl must be at most %s", p.MaxLifetime)
	}
	now := time.Now()
	claims := buyerJWT{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   c.BuyerID,
		Issuer:    p.Issuer,
		Audience:  jwt.ClaimStrings{p.Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(c.TTL)),
	}, Country: c.Country}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	if c.KeyID != "" {
		tok.Header["kid"] = c.KeyID
	}
	return tok.SignedString(secret)
}

var errTokenExpired = models.Errorf(models.KindUnauthorized, "token_expired", "token has expired")

// verifyBuyerToken checks a buyer JWT against p and returns its subject. The
// algorithm is pinned so a token cannot choose its own verification
// (alg=none, RS/HS confusion), and the key comes from our table by kid,
// never from the token.
func verifyBuyerToken(p BuyerTokenPolicy, raw string) (string, error) {
	id, err := verifyBuyer(p, raw)
	return id.ID, err
}

// verifyBuyer is verifyBuyerToken with the token's country claim.
func verifyBuyer(p BuyerTokenPolicy, raw string) (buyerIdentity, error) {
	var claims buyerJWT
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, hasKid := t.Header["kid"]
		if !hasKid {
			if len(p.Secret) == 0 {
				return nil, errors.New("no key for tokens without kid")
			}
			return p.Secret, nil
		}
		name, _ := kid.(string)
		key := p.Keys[name]
		if len(key) == 0 {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(p.Issuer),
		jwt.WithAudience(p.Audience),
		jwt.WithLeeway(tokenLeeway),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return buyerIdentity{}, errTokenExpired
		}
		return buyerIdentity{}, errUnauthenticated
	}
	if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > p.MaxLifetime {
		return buyerIdentity{}, errUnauthenticated
	}
	if !models.ValidID(claims.Subject) {
		return buyerIdentity{}, errUnauthenticated
	}
	return buyerIdentity{ID: claims.Subject, Country: strings.ToUpper(strings.TrimSpace(claims.Country))}, nil
}

// parseBuyerToken verifies a buyer JWT under the API's policy.
func (a *app) parseBuyerToken(raw string) (buyerIdentity, error) {
	return verifyBuyer(a.buyerTokens, raw)
}
