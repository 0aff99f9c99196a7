// Package notify delivers signed webhooks to merchants. Each request carries
// a Checkout-Signature header (HMAC-SHA256 over the timestamp and the raw
// body, keyed by the merchant's webhook secret) and a Checkout-Event-Id that
// stays the same across retries, so merchants can verify and deduplicate.
package notify

// Event is the JSON body of one webhook.
type Event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`    // e.g. "order.paid"
	Created int64  `json:"created"` // unix seconds: when it happened
	// Sequence orders one order's events as they happened (1, 2, …); a
	// merchant applies an event only if it is newer than the last one seen.
	Sequence int `json:"sequence,omitempty"`
	Data     any `json:"data"`
}
