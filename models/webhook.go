package models

import "time"

// WebhookOutcome is how one attempt to deliver a webhook ended.
type WebhookOutcome string

const (
	// WebhookDelivered: the merchant's endpoint answered 2xx.
	WebhookDelivered WebhookOutcome = "delivered"
	// WebhookFailed: no answer, 408, 429 or 5xx; the attempt is retried.
	WebhookFailed WebhookOutcome = "failed"
	// WebhookRejected: any other 4xx (or a redirect); the endpoint refuses
	// the event, so retrying is pointless until the merchant fixes it.
	WebhookRejected WebhookOutcome = "rejected"
	// WebhookSkipped: the merchant has no webhook URL.
	WebhookSkipped WebhookOutcome = "skipped"
)

// WebhookAttempt is one entry of an order's delivery log.
type WebhookAttempt struct {
	DeliveryID string         `json:"-"`
	OrderID    string         `json:"-"`
	MerchantID string         `json:"-"`
	EventType  string         `json:"-"`
	Attempt    int            `json:"attempt"`
	StatusCode int            `json:"status_code,omitempty"` // 0: no answer
	Latency    time.Duration  `json:"-"`
	LatencyMS  int64          `json:"latency_ms"`
	Outcome    WebhookOutcome `json:"outcome"`
	Error      string         `json:"error,omitempty"`
	At         time.Time      `json:"at"`
}

// WebhookDelivery is one event for one order: its id is the event id the
// merchant dedupes on, and every attempt (replays included) is listed.
type WebhookDelivery struct {
	ID        string           `json:"id"`
	OrderID   string           `json:"order_id"`
	EventType string           `json:"event_type"`
	Status    WebhookOutcome   `json:"status"` // the latest attempt's outcome
	Attempts  []WebhookAttempt `json:"attempts"`
}

// Summarize fills the derived fields from the attempts.
func (d *WebhookDelivery) Summarize() {
	for i := range d.Attempts {
		d.Attempts[i].LatencyMS = d.Attempts[i].Latency.Milliseconds()
	}
	if n := len(d.Attempts); n > 0 {
		d.Status = d.Attempts[n-1].Outcome
	}
}
