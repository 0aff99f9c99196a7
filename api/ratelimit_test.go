package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRateLimit(t *testing.T) {
	def := RateLimit{PerSecond: 3, Burst: 4}
	cases := []struct {
		in   string
		want RateLimit
		bad  bool
	}{
		{"", def, false},
		{"off", RateLimit{Off: true}, false},
		{" OFF ", RateLimit{Off: true}, false},
		{"20", RateLimit{PerSecond: 20, Burst: 40}, false},
		{"0.2", RateLimit{PerSecond: 0.2, Burst: 1}, false},
		{"5,12", RateLimit{PerSecond: 5, Burst: 12}, false},
		{"5, 12", RateLimit{PerSecond: 5, Burst: 12}, false},
		{"0", RateLimit{}, true},
		{"-1", RateLimit{}, true},
		{"NaN", RateLimit{}, true},
		{"Inf", RateLimit{}, true},
		{"5,0", RateLimit{}, true},
		{"5,x", RateLimit{}, true},
		{"fast", RateLimit{}, true},
	}
	for _, tc := range cases {
		got, err := ParseRateLimit(tc.in, def)
		if tc.bad {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

// fakeClock lets limiter tests move time by hand instead of sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestKeyedLimiterRefillsAndReportsRetryAfter(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	k := newKeyedLimiter(RateLimit{PerSecond: 2, Burst: 3}, 10)
	k.now = clock.now
	for i := 0; i < 3; i++ {
		ok, _ := k.allow("a")
		require.True(t, ok, "request %d is within the burst", i)
	}
	ok, wait := k.allow("a")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	// Another key has its own bucket.
	ok, _ = k.allow("b")
	require.True(t, ok)
	// Refused attempts do not push the next token further away.
	for i := 0; i < 10; i++ {
		k.allow("a")
	}
	clock.t = clock.t.Add(500 * time.Millisecond)
	ok, _ = k.allow("a")
	require.True(t, ok)
}

func TestKeyedLimiterMemoryIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	k := newKeyedLimiter(RateLimit{PerSecond: 1, Burst: 2}, 100)
	k.now = clock.now
	for i := 0; i < 1000; i++ {
		k.allow(fmt.Sprint("ip-", i))
		require.LessOrEqual(t, k.size(), 100)
	}
	// Idle buckets (full again after Burst/PerSecond = 2s) are swept.
	clock.t = clock.t.Add(3 * time.Second)
	k.allow("newcomer")
	require.Equal(t, 1, k.size())
}

func TestDisabledLimiterAllowsEverything(t *testing.T) {
	var k *keyedLimiter = newKeyedLimiter(RateLimit{Off: true}, 10)
	for i := 0; i < 100; i++ {
		ok, _ := k.allow("a")
		require.True(t, ok)
	}
}

func withLimits(l RateLimits) func(*Config) { return func(c *Config) { c.RateLimits = l } }

func requireRateLimited(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	requireError(t, w, http.StatusTooManyRequests, codeRateLimited)
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	require.NoError(t, err, "Retry-After must be whole seconds")
	require.GreaterOrEqual(t, secs, 1)
}

func TestRateLimitPerBuyer(t *testing.T) {
	off := RateLimit{Off: true}
	// 1 token an hour: the burst is all a buyer gets during the test.
	e := newEnv(t, withLimits(RateLimits{IP: off, Merchant: off, Buyer: RateLimit{PerSecond: 1.0 / 3600, Burst: 2}}))
	a, b := bearerOf(e.buyerToken(buyerA)), bearerOf(e.buyerToken(buyerB))
	get := func(auth string) *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodGet, path: "/v1/orders/ord_none", auth: auth})
	}
	require.Equal(t, http.StatusNotFound, get(a).Code)
	require.Equal(t, http.StatusNotFound, get(a).Code)
	requireRateLimited(t, get(a))
	requireRateLimited(t, get(a))
	// Buyer B is not affected by A's flood.
	require.Equal(t, http.StatusNotFound, get(b).Code)
	// Merchants are limited separately.
	w := e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: bearerOf(keyA)})
	require.Equal(t, http.StatusOK, w.Code)
}

func TestRateLimitPerMerchantAndPerIP(t *testing.T) {
	off := RateLimit{Off: true}
	slow := RateLimit{PerSecond: 1.0 / 3600, Burst: 3}
	e := newEnv(t, withLimits(RateLimits{IP: off, Buyer: off, Merchant: slow}))
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: bearerOf(keyA)}).Code)
	}
	w := e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: bearerOf(keyA)})
	requireRateLimited(t, w)
	require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: "/v1/merchant/orders", auth: bearerOf(keyB)}).Code)

	e = newEnv(t, withLimits(RateLimits{IP: slow, Buyer: off, Merchant: off}))
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: "/healthz"}).Code)
	}
	// Unauthenticated requests count too, and the answer keeps the security headers.
	w = e.do(req{method: http.MethodGet, path: "/v1/products/" + productID})
	requireRateLimited(t, w)
	require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
}

func TestDefaultLimitsLetTwentyConcurrentRequestsThrough(t *testing.T) {
	e := newEnv(t, withLimits(RateLimits{}))
	tok := bearerOf(e.buyerToken(buyerA))
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- e.do(req{method: http.MethodGet, path: "/v1/orders/ord_none", auth: tok}).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, http.StatusNotFound, c)
	}
}
