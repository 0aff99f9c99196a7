package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Stripe's deliveries come from few addresses and are authenticated by
// signature: the common per-IP limit does not apply to them, a far higher one
// of their own does, the body limit does, and the rest of the API from the
// same address stays limited.
func TestStripeWebhookHasItsOwnPerIPLimit(t *testing.T) {
	off := RateLimit{Off: true}
	ev := newFakeEvents()
	e := newEnv(t, withLimits(RateLimits{IP: RateLimit{PerSecond: 1.0 / 3600, Burst: 2}, Buyer: off, Merchant: off,
		StripeWebhookIP: RateLimit{PerSecond: 1.0 / 3600, Burst: 12}}),
		func(c *Config) {
			c.StripeWebhookSecret = testWebhookSecret
			c.StripeEvents = ev
			c.MaxBodyBytes = 4 << 10
		})
	for i := range 10 {
		// Events of no order of ours: acknowledged without touching Temporal.
		body := eventBody(fmt.Sprintf("evt_%d", i), "payment_intent.succeeded",
			map[string]any{"id": "pi_other", "object": "payment_intent", "metadata": map[string]any{}})
		require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())), "delivery %d", i)
	}
	require.Len(t, ev.claimed, 10)

	big := eventBody("evt_big", "payment_intent.succeeded", map[string]any{"id": "pi_other", "object": "payment_intent",
		"description": strings.Repeat("x", 8<<10), "metadata": map[string]any{}})
	w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: big,
		headers: map[string]string{"Stripe-Signature": signedHeader(big, testWebhookSecret, time.Now())}})
	requireError(t, w, http.StatusRequestEntityTooLarge, codeBodyTooLarge)

	// The twelfth delivery was the last of the burst: a flood from one
	// address is refused before any signature is computed.
	body := eventBody("evt_flood", "payment_intent.succeeded",
		map[string]any{"id": "pi_other", "object": "payment_intent", "metadata": map[string]any{}})
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
	requireRateLimited(t, e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
		headers: map[string]string{"Stripe-Signature": "t=1,v1=00"}}))

	for range 2 {
		require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: "/healthz"}).Code)
	}
	requireRateLimited(t, e.do(req{method: http.MethodGet, path: "/healthz"}))
}
