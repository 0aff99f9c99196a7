package activities_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// endpoint is a merchant's webhook endpoint on loopback that answers 503
// to the events fail names until it is told otherwise.
type endpoint struct {
	mu       sync.Mutex
	fail     func(orderID, eventType string) bool
	received []string // "order event" of each event answered 2xx, in arrival order
	attempts int
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		Type string `json:"type"`
		Data struct {
			OrderID string `json:"order_id"`
		} `json:"data"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attempts++
	if e.fail != nil && e.fail(ev.Data.OrderID, ev.Type) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	e.received = append(e.received, ev.Data.OrderID+" "+ev.Type)
	w.WriteHeader(http.StatusOK)
}

func (e *endpoint) got() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.received...)
}

type outboxRig struct {
	store    *store.Store
	acts     *activities.Activities
	merchant models.Merchant
	ep       *endpoint
}

func newOutboxRig(t *testing.T, s *store.Store) *outboxRig {
	ep := &endpoint{}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	m, _, err := s.CreateMerchant(context.Background(), "Shop", srv.URL+"/hooks")
	require.NoError(t, err)
	return &outboxRig{store: s, ep: ep, merchant: m,
		acts: &activities.Activities{Store: s, Notifier: notify.NewLocalSender(2 * time.Second), Deliveries: s}}
}

// serve gives the events kept from now on a merchant whose endpoint is h.
func (r *outboxRig) serve(t *testing.T, h http.Handler) models.Merchant {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	m, _, err := r.store.CreateMerchant(context.Background(), "Shop", srv.URL+"/hooks")
	require.NoError(t, err)
	r.merchant = m
	return m
}

// keep puts an event of order orderID in the outbox, as the workflow's
// store step does.
func (r *outboxRig) keep(t *testing.T, orderID string, seq int, eventType, supersedes string) {
	t.Helper()
	in := activities.NotifyInput{OrderID: orderID, EventType: eventType, Sequence: seq,
		Order:      &models.Order{ID: orderID, MerchantID: r.merchant.ID, Status: models.StatusAuthorized},
		OccurredAt: time.Now()}
	require.NoError(t, r.acts.EnqueueMerchantEvent(context.Background(), in, supersedes))
}

// dispatch runs a dispatcher with quick retries until the test ends.
func (r *outboxRig) dispatch(t *testing.T, o activities.OutboxOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	d := &activities.Dispatcher{Activities: r.acts, OutboxOptions: o}
	r.acts.Dispatch = d
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitStates waits until the order's outbox holds events in these states
// (an attempt's outcome is written just after the endpoint answered).
func (r *outboxRig) waitStates(t *testing.T, orderID string, want map[string]int) {
	t.Helper()
	var got map[string]int
	ok := assert.Eventually(t, func() bool {
		var err error
		got, err = r.store.OutboxStates(context.Background(), orderID)
		return err == nil && assert.ObjectsAreEqual(want, got)
	}, 10*time.Second, 10*time.Millisecond)
	if !ok {
		t.Fatalf("outbox of %s: %v, want %v", orderID, got, want)
	}
}

func quick() activities.OutboxOptions {
	return activities.OutboxOptions{Poll: 20 * time.Millisecond, RetryInitial: 20 * time.Millisecond,
		RetryMax: 80 * time.Millisecond, RetryFor: time.Hour, Lease: 5 * time.Second}
}

// The merchant's endpoint is down for an order's first event: it is
// retried with backoff, the order's next event waits behind it, and another
// order's events are not held up.
func TestDispatcherSendsEachOrdersEventsInSequenceThroughAnOutage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		r := newOutboxRig(t, s)
		down := true
		r.ep.fail = func(orderID, _ string) bool { return orderID == "ord_a" && down }
		r.dispatch(t, quick())
		r.keep(t, "ord_a", 1, "order.created", "")
		r.keep(t, "ord_a", 2, "order.delivered", "")
		r.keep(t, "ord_b", 1, "order.created", "")
		r.keep(t, "ord_b", 2, "order.delivered", "")

		require.Eventually(t, func() bool { return len(r.ep.got()) == 2 }, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, []string{"ord_b order.created", "ord_b order.delivered"}, r.ep.got(), "the other order is not held up")
		require.Eventually(t, func() bool {
			r.ep.mu.Lock()
			defer r.ep.mu.Unlock()
			return r.ep.attempts >= 5
		}, 10*time.Second, 10*time.Millisecond, "retried while down")
		r.ep.mu.Lock()
		down = false
		r.ep.mu.Unlock()

		require.Eventually(t, func() bool { return len(r.ep.got()) == 4 }, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, []string{"ord_a order.created", "ord_a order.delivered"}, r.ep.got()[2:], "in sequence")
		r.waitStates(t, "ord_a", map[string]int{store.OutboxDelivered: 2})
		deliveries, err := s.WebhookDeliveries(context.Background(), "ord_a")
		require.NoError(t, err)
		require.Len(t, deliveries, 2)
		assert.Greater(t, len(deliveries[0].Attempts)+len(deliveries[1].Attempts), 3, "every attempt is in the merchant's delivery log")
	})
}

// An event whose endpoint fails past the retry window is given up, and the
// order's next event leaves.
func TestDispatcherGivesUpAfterTheRetryWindow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		r := newOutboxRig(t, s)
		r.ep.fail = func(_, eventType string) bool { return eventType == "order.created" }
		o := quick()
		o.RetryFor = 150 * time.Millisecond
		r.dispatch(t, o)
		r.keep(t, "ord_c", 1, "order.created", "")
		r.keep(t, "ord_c", 2, "order.delivered", "")

		require.Eventually(t, func() bool { return len(r.ep.got()) == 1 }, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, []string{"ord_c order.delivered"}, r.ep.got())
		r.waitStates(t, "ord_c", map[string]int{store.OutboxFailed: 1, store.OutboxDelivered: 1})
	})
}

// An event an ended order's workflow sends itself (numbered on from the
// outbox's) waits while the outbox still holds an earlier one of the order.
func TestNotifyMerchantWaitsForTheOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		r := newOutboxRig(t, s)
		r.keep(t, "ord_d", 1, "order.created", "")
		late := activities.NotifyInput{OrderID: "ord_d", EventType: "order.cancelled", Sequence: 2,
			Order: &models.Order{ID: "ord_d", MerchantID: r.merchant.ID, Status: models.StatusDelivered}}
		err := r.acts.NotifyMerchant(context.Background(), late)
		require.ErrorContains(t, err, "still waiting in the outbox")
		assert.Empty(t, r.ep.got(), "nothing overtook the outbox")

		r.dispatch(t, quick())
		r.waitStates(t, "ord_d", map[string]int{store.OutboxDelivered: 1})
		require.NoError(t, r.acts.NotifyMerchant(context.Background(), late))
		assert.Equal(t, []string{"ord_d order.created", "ord_d order.cancelled"}, r.ep.got())
	})
}

// A dispatcher runs at most Batch attempts at once, however many events
// are due, and still sends them all.
func TestDispatcherBoundsAttemptsInFlight(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		r := newOutboxRig(t, s)
		var mu sync.Mutex
		inFlight, most := 0, 0
		r.ep.fail = func(string, string) bool { return false }
		slow := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(40 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			r.ep.ServeHTTP(w, req)
		})
		r.serve(t, slow)
		for i := range 10 {
			r.keep(t, "ord_many_"+string(rune('a'+i)), 1, "order.created", "")
		}
		o := quick()
		o.Batch = 3
		r.dispatch(t, o)
		require.Eventually(t, func() bool { return len(r.ep.got()) == 10 }, 10*time.Second, 10*time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		assert.LessOrEqual(t, most, 3)
		assert.Greater(t, most, 1, "attempts of different orders run side by side")
	})
}

// The worker dies mid-attempt: its dispatcher stops with the merchant's
// endpoint still answering. The event stays leased until the lease runs
// out, then another worker's dispatcher sends it again, with the same event
// id; the order's next event follows it.
func TestDispatcherKilledMidAttemptHandsTheEventOn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		r := newOutboxRig(t, s)
		hanging := make(chan struct{})
		var once sync.Once
		var ids []string
		var mu sync.Mutex
		slow := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			ids = append(ids, req.Header.Get("Checkout-Event-Id"))
			first := len(ids) == 1
			mu.Unlock()
			if first {
				// The dying worker's attempt never gets its answer (the body
				// is read so the server notices the client going away).
				_, _ = io.Copy(io.Discard, req.Body)
				once.Do(func() { close(hanging) })
				<-req.Context().Done()
				return
			}
			r.ep.ServeHTTP(w, req)
		})
		m := r.serve(t, slow)
		r.keep(t, "ord_k", 1, "order.created", "")
		r.keep(t, "ord_k", 2, "order.delivered", "")

		o := quick()
		o.Lease = 400 * time.Millisecond
		ctx, kill := context.WithCancel(context.Background())
		dying := &activities.Dispatcher{Activities: r.acts, OutboxOptions: o}
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			dying.Run(ctx)
		}()
		<-hanging
		kill()
		<-stopped
		killedAt := time.Now()

		other := &activities.Activities{Store: s, Notifier: notify.NewLocalSender(2 * time.Second), Deliveries: s}
		next := &outboxRig{store: s, acts: other, merchant: m, ep: r.ep}
		next.dispatch(t, o)
		require.Eventually(t, func() bool { return len(r.ep.got()) == 2 }, 10*time.Second, 10*time.Millisecond)
		assert.GreaterOrEqual(t, time.Since(killedAt), 300*time.Millisecond, "held for the rest of the lease")
		assert.Equal(t, []string{"ord_k order.created", "ord_k order.delivered"}, r.ep.got())
		mu.Lock()
		defer mu.Unlock()
		require.GreaterOrEqual(t, len(ids), 2)
		assert.Equal(t, ids[0], ids[1], "sent again under the same event id")
		next.waitStates(t, "ord_k", map[string]int{store.OutboxDelivered: 2})
	})
}
