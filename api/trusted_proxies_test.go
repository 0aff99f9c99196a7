package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPerIPLimitBehindTrustedProxy: from a trusted load balancer the limit
// counts the client its X-Forwarded-For names; from anyone else the header
// is ignored and the connection's address counts.
func TestPerIPLimitBehindTrustedProxy(t *testing.T) {
	off := RateLimit{Off: true}
	one := RateLimit{PerSecond: 1.0 / 3600, Burst: 1}
	from := func(client string) req {
		return req{method: http.MethodGet, path: "/healthz", headers: map[string]string{"X-Forwarded-For": client}}
	}
	// httptest requests come from 192.0.2.1.
	behind := newEnv(t, withLimits(RateLimits{IP: one, Buyer: off, Merchant: off}), func(c *Config) {
		c.TrustedProxies = []string{"192.0.2.1"}
	})
	require.Equal(t, http.StatusOK, behind.do(from("198.51.100.7")).Code)
	requireRateLimited(t, behind.do(from("198.51.100.7")))
	require.Equal(t, http.StatusOK, behind.do(from("198.51.100.8")).Code, "another client behind the balancer has its own bucket")

	direct := newEnv(t, withLimits(RateLimits{IP: one, Buyer: off, Merchant: off}))
	require.Equal(t, http.StatusOK, direct.do(from("198.51.100.7")).Code)
	requireRateLimited(t, direct.do(from("198.51.100.8")))
}
