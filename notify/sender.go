package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/buybutton/checkout/checkoutwebhook"
	"github.com/buybutton/checkout/models"
)

// DefaultTimeout bounds one delivery, so a slow merchant endpoint cannot hold
// a worker slot for long; the caller retries later instead.
const DefaultTimeout = 10 * time.Second

const userAgent = "BuyButton-Checkout-Webhooks/1.0"

// Sender posts signed events. The zero value works, with DefaultTimeout and
// the wall clock.
type Sender struct {
	Client *http.Client
	Now    func() time.Time
	// URLs is which webhook URLs are delivered to; the zero value (https,
	// public addresses) is production's.
	URLs URLPolicy
}

// Delivery describes one attempt, successful or not.
type Delivery struct {
	StatusCode int           // 0 when no answer arrived
	Latency    time.Duration // time until the response headers, or the failure
}

// NewSender returns a sender whose requests time out after timeout
// (DefaultTimeout if <= 0) and that delivers only to public internet
// addresses: a merchant's webhook URL must not let them reach our own
// network (databases, metadata services) through the worker.
func NewSender(timeout time.Duration) *Sender {
	return &Sender{Client: newClient(timeout, false), Now: time.Now}
}

// NewLocalSender is NewSender that also delivers to loopback and private
// addresses and over plain http, for development and tests whose merchants
// listen on localhost.
func NewLocalSender(timeout time.Duration) *Sender {
	return &Sender{Client: newClient(timeout, true), Now: time.Now, URLs: URLPolicy{AllowPrivate: true, AllowHTTP: true}}
}

func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: newTransport(allowPrivate),
		// A redirect would turn the POST into a GET (losing the event) or
		// send the signed body somewhere the merchant never registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Send posts ev to url, signed with secret. A 2xx answer is success. A 4xx
// other than 408/429, or a redirect, means the merchant's endpoint refuses the
// event: KindInvalid "webhook_rejected", not worth retrying. Anything else
// (network failure, timeout, 408, 429, 5xx) is KindUnavailable
// "webhook_failed" and worth retrying with the same event.
func (s *Sender) Send(ctx context.Context, endpoint, secret string, ev Event) (Delivery, error) {
	if err := CheckWebhookURL(endpoint, s.URLs); err != nil {
		return Delivery{}, err
	}
	if secret == "" {
		return Delivery{}, models.Invalid(webhookSecretMissingErr, "webhook secret is required")
	}
	if ev.ID == "" {
		return Delivery{}, models.Invalid("invalid_event", "event id is required")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Delivery{}, models.Invalid("invalid_event", "event data cannot be encoded: %v", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	client := s.Client
	if client == nil {
		client = newClient(DefaultTimeout, false)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Delivery{}, models.Invalid(CodeInvalidWebhookURL, "webhook url is invalid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(checkoutwebhook.EventIDHeader, ev.ID)
	req.Header.Set(checkoutwebhook.SignatureHeader, Sign(secret, now(), body))

	start := time.Now()
	resp, err := client.Do(req)
	d := Delivery{Latency: time.Since(start)}
	if errors.Is(err, errForbiddenAddress) {
		return d, &models.Error{Kind: models.KindInvalid, Code: CodeAddressForbidden,
			Message: "webhook url does not resolve to a public internet address", Err: err}
	}
	if err != nil {
		return d, &models.Error{Kind: models.KindUnavailable, Code: "webhook_failed",
			Message: "webhook endpoint could not be reached", Err: err}
	}
	defer resp.Body.Close()
	// Reading a little of the body lets the connection be reused; a merchant's
	// endpoint has nothing to tell us beyond the status.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	d.StatusCode = resp.StatusCode
	return d, classifyStatus(resp.StatusCode)
}

func classifyStatus(status int) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
	case status >= 300 && status < 500:
		return &models.Error{Kind: models.KindInvalid, Code: "webhook_rejected",
			Message: fmt.Sprintf("webhook endpoint refused the event with status %d", status)}
	}
	return &models.Error{Kind: models.KindUnavailable, Code: "webhook_failed",
		Message: fmt.Sprintf("webhook endpoint answered status %d", status)}
}
