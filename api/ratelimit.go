package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/buybutton/checkout/models"
)

const codeRateLimited = "rate_limited"

// RateLimit is a token bucket: PerSecond requests a second on average, bursts
// of up to Burst. The zero value means "use the default"; Off disables it.
type RateLimit struct {
	PerSecond float64
	Burst     int
	Off       bool
}

// RateLimits are the abuse limits, each keyed separately: by client IP (every
// request, before authentication), by buyer id and by merchant (after
// authentication, so one tenant cannot starve another behind the same NAT).
type RateLimits struct {
	IP       RateLimit
	Buyer    RateLimit
	Merchant RateLimit
	// StripeWebhookIP limits POST /v1/webhooks/stripe per source IP, instead
	// of IP: Stripe delivers every event of the account from a handful of
	// addresses and bursts after an outage, so it is far higher, but a
	// flood of forged deliveries (each costing an HMAC) is still stopped.
	StripeWebhookIP RateLimit
}

// The defaults leave room for a client firing a few dozen requests at once
// (a page load, a retrying app) while stopping scripted floods.
var (
	DefaultIPRateLimit       = RateLimit{PerSecond: 100, Burst: 200}
	DefaultBuyerRateLimit    = RateLimit{PerSecond: 20, Burst: 40}
	DefaultMerchantRateLimit = RateLimit{PerSecond: 50, Burst: 100}
	// Well above what Stripe sends one account even when it catches up
	// after an outage.
	DefaultStripeWebhookIPRateLimit = RateLimit{PerSecond: 500, Burst: 2000}
)

// ParseRateLimit reads "RATE[,BURST]" (requests per second, e.g. "20,40"),
// "off", or "" for def. A missing burst is twice the rate, at least 1.
func ParseRateLimit(s string, def RateLimit) (RateLimit, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return def, nil
	case "off":
		return RateLimit{Off: true}, nil
	}
	rateStr, burstStr, hasBurst := strings.Cut(s, ",")
	perSecond, err := strconv.ParseFloat(strings.TrimSpace(rateStr), 64)
	if err != nil || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: want RATE[,BURST] with a positive rate per second, or off", s)
	}
	burst := int(math.Max(1, math.Ceil(2*perSecond)))
	if hasBurst {
		if burst, err = strconv.Atoi(strings.TrimSpace(burstStr)); err != nil || burst < 1 {
			return RateLimit{}, fmt.Errorf("rate limit %q: burst must be a positive integer", s)
		}
	}
	return RateLimit{PerSecond: perSecond, Burst: burst}, nil
}

func (l RateLimit) orDefault(def RateLimit) RateLimit {
	if l == (RateLimit{}) {
		return def
	}
	return l
}

// maxLimiterKeys bounds each limiter's memory whatever the number of clients.
const maxLimiterKeys = 100_000

// keyedLimiter holds one token bucket per key. A bucket idle long enough to
// have refilled completely is indistinguishable from a new one, so it is
// dropped: memory follows the number of recently active clients.
type keyedLimiter struct {
	limit   rate.Limit
	burst   int
	idleTTL time.Duration
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newKeyedLimiter returns nil for a disabled limit; a nil limiter allows all.
func newKeyedLimiter(l RateLimit, maxKeys int) *keyedLimiter {
	if l.Off {
		return nil
	}
	refill := time.Duration(float64(l.Burst) / l.PerSecond * float64(time.Second))
	return &keyedLimiter{
		limit: rate.Limit(l.PerSecond), burst: l.Burst,
		idleTTL: max(refill, time.Second), maxKeys: maxKeys,
		now: time.Now, buckets: make(map[string]*bucket),
	}
}

// allow takes a token for key. When none is left it reports how long until
// one will be, for Retry-After.
func (k *keyedLimiter) allow(key string) (ok bool, retryAfter time.Duration) {
	if k == nil {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		k.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, k.idleTTL
	}
	if d := r.DelayFrom(now); d > 0 {
		// Refused requests must not consume future tokens, or a client that
		// keeps retrying too fast would lock itself out for ever.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// makeRoom drops idle buckets, at most once per idleTTL unless the map is
// full. If every bucket is active and the map is full, arbitrary ones go:
// their owners get a fresh burst, which is the price of bounded memory.
func (k *keyedLimiter) makeRoom(now time.Time) {
	full := len(k.buckets) >= k.maxKeys
	if !full && now.Sub(k.lastSweep) < k.idleTTL {
		return
	}
	k.lastSweep = now
	for key, b := range k.buckets {
		if now.Sub(b.seen) >= k.idleTTL {
			delete(k.buckets, key)
		}
	}
	for key := range k.buckets {
		if len(k.buckets) < k.maxKeys {
			break
		}
		delete(k.buckets, key)
	}
}

func (k *keyedLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

type limiters struct {
	ip, buyer, merchant, stripeWebhookIP *keyedLimiter
}

func newLimiters(l RateLimits) limiters {
	return limiters{
		ip:              newKeyedLimiter(l.IP.orDefault(DefaultIPRateLimit), maxLimiterKeys),
		buyer:           newKeyedLimiter(l.Buyer.orDefault(DefaultBuyerRateLimit), maxLimiterKeys),
		merchant:        newKeyedLimiter(l.Merchant.orDefault(DefaultMerchantRateLimit), maxLimiterKeys),
		stripeWebhookIP: newKeyedLimiter(l.StripeWebhookIP.orDefault(DefaultStripeWebhookIPRateLimit), maxLimiterKeys),
	}
}

// limited answers 429 with Retry-After (whole seconds, rounded up) when key
// has no token left, and reports whether it did.
func limited(c *gin.Context, k *keyedLimiter, key string) bool {
	ok, wait := k.allow(key)
	if ok {
		return false
	}
	setRetryAfter(c.Writer, wait)
	writeError(c, models.Errorf(models.KindUnavailable, codeRateLimited, "too many requests; retry later"))
	return true
}

// setRetryAfter says when to come back: wait in whole seconds, rounded up,
// at least one.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
}

// routeStripeWebhook has its own per-IP limit (RateLimits.StripeWebhookIP).
// The body limit still applies.
const routeStripeWebhook = "/v1/webhooks/stripe"

// limitByIP applies the per-IP limit: Stripe's route its own, every other
// request the common one. ClientIP is the connection's address: the router
// trusts no proxy headers, so a client cannot pick its own key with
// X-Forwarded-For.
func (a *app) limitByIP(c *gin.Context) {
	k := a.limits.ip
	if c.Request.Method == http.MethodPost && (c.FullPath() == routeStripeWebhook || c.FullPath() == routeStripeWebhook+"/connect") {
		k = a.limits.stripeWebhookIP
	}
	if limited(c, k, c.ClientIP()) {
		return
	}
	c.Next()
}
