package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// apiVersion is the version stripe-go v76 pins; webhook.ConstructEvent
// rejects events stamped with any other.
const apiVersion = "2023-10-16"

// event is a Stripe Event as delivered and as served on /v1/events/{id}.
type event struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      string       `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int          `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
	// Account is the connected account an event of Connect belongs to.
	Account  string          `json:"account,omitempty"`
	orderKey string          // deliveries sharing it keep their order
	payload  json.RawMessage // what was signed and sent
}

type eventData struct {
	Object json.RawMessage `json:"object"`
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// emit records an event and queues its delivery. It runs under s.mu, so events
// are queued in the order the state changed. orderKey is the PaymentIntent the
// object belongs to, so a charge.refunded never overtakes its intent's events.
func (s *Server) emit(c *call, typ, orderKey string, object map[string]any) {
	s.emitFor(c, typ, orderKey, "", object)
}

// emitFor is emit for an event of a connected account (account != ""),
// delivered to the Connect endpoint.
func (s *Server) emitFor(c *call, typ, orderKey, account string, object map[string]any) {
	ev := &event{
		ID: newID("evt_", 24), Object: "event", APIVersion: apiVersion, Created: s.now().Unix(),
		Data: eventData{Object: encode(object)}, Type: typ, orderKey: orderKey, Account: account,
	}
	hooks := s.hooks
	if account != "" {
		hooks = s.connectHooks
	}
	if c != nil {
		ev.Request.ID = &c.reqID
		if c.idemKey != "" {
			ev.Request.IdempotencyKey = &c.idemKey
		}
	}
	if hooks.url != "" {
		ev.PendingWebhooks = 1
	}
	ev.payload = encode(ev)
	s.events = append(s.events, ev)
	hooks.enqueue(ev)
}

func (s *Server) getEvent(c *call) (int, any) {
	for _, ev := range s.events {
		if ev.ID == c.pathID {
			return http.StatusOK, ev.payload
		}
	}
	return result(0, nil, noSuch("event", "", c.pathID))
}

// webhookSender delivers events in order per intent, each intent on its own
// goroutine so one failing endpoint retry does not hold up other orders.
type webhookSender struct {
	url, secret string
	log         *slog.Logger
	client      *http.Client
	backoff     []time.Duration // waits between attempts; its length is the retry budget

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	queues map[string][]*event // present while a goroutine drains it
	closed bool
}

func newWebhookSender(url, secret string, log *slog.Logger) *webhookSender {
	ctx, cancel := context.WithCancel(context.Background())
	return &webhookSender{
		url: url, secret: secret, log: log,
		client:  &http.Client{Timeout: 10 * time.Second},
		backoff: []time.Duration{250 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second},
		ctx:     ctx, cancel: cancel,
		queues: map[string][]*event{},
	}
}

func (w *webhookSender) enqueue(ev *event) {
	if w.url == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	q, running := w.queues[ev.orderKey]
	w.queues[ev.orderKey] = append(q, ev)
	if !running {
		w.wg.Add(1)
		go w.drain(ev.orderKey)
	}
}

func (w *webhookSender) drain(key string) {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		q := w.queues[key]
		if len(q) == 0 || w.closed {
			delete(w.queues, key)
			w.mu.Unlock()
			return
		}
		ev := q[0]
		w.mu.Unlock()

		w.deliver(ev)

		w.mu.Lock()
		w.queues[key] = w.queues[key][1:]
		w.mu.Unlock()
	}
}

// deliver tries until the endpoint answers 2xx or the retry budget is spent.
func (w *webhookSender) deliver(ev *event) {
	for attempt := 0; ; attempt++ {
		err := w.post(ev)
		if err == nil {
			return
		}
		if attempt >= len(w.backoff) {
			w.log.Warn("sandbox: giving up on webhook", "event", ev.ID, "type", ev.Type, "attempts", attempt+1, "err", err)
			return
		}
		w.log.Info("sandbox: webhook failed, retrying", "event", ev.ID, "type", ev.Type, "attempt", attempt+1, "err", err)
		t := time.NewTimer(w.backoff[attempt])
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			return
		}
	}
}

func (w *webhookSender) post(ev *event) error {
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.url, bytes.NewReader(ev.payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	// Signed with the wall clock at delivery, not Options.Now: receivers check
	// the timestamp against their own clock, and each retry is signed afresh.
	req.Header.Set("Stripe-Signature", signature(time.Now(), ev.payload, w.secret))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("endpoint answered %d", resp.StatusCode)
	}
	return nil
}

// signature is Stripe's v1 scheme: hex HMAC-SHA256 of "<unix>.<payload>".
func signature(t time.Time, payload []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t.Unix())
	mac.Write(payload)
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

func (w *webhookSender) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}
