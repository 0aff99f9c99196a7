package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// takeFor leases the due events of one order (other tests' orders may share
// the database).
func takeFor(t *testing.T, s *store.Store, orderID string, lease time.Duration) []store.OutboxEvent {
	t.Helper()
	evs, err := s.TakeOutboxEvents(ctxT(t), 100, lease)
	require.NoError(t, err)
	var mine []store.OutboxEvent
	for _, e := range evs {
		if e.OrderID == orderID {
			mine = append(mine, e)
		}
	}
	return mine
}

func enqueue(t *testing.T, s *store.Store, orderID string, seq int, typ, supersedes string) {
	t.Helper()
	require.NoError(t, s.EnqueueOutboxEvent(ctxT(t), store.NewOutboxEvent{OrderID: orderID, Sequence: seq, EventType: typ,
		Payload: []byte(`{"n":` + string(rune('0'+seq)) + `}`), Supersedes: supersedes}))
}

// One order's events leave one at a time, in sequence: the second is not
// due while the first is pending, and keeping an event twice keeps it once.
func TestOutboxSendsAnOrdersEventsInSequence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		enqueue(t, s, o.ID, 1, "order.created", "")
		enqueue(t, s, o.ID, 1, "order.created", "") // a retried store step
		enqueue(t, s, o.ID, 2, "order.delivered", "")

		n, oldest, err := s.OutboxBacklog(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		assert.WithinDuration(t, time.Now(), oldest, time.Minute)

		got := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, got, 1, "only the first of the order is due")
		assert.Equal(t, 1, got[0].Sequence)
		assert.Equal(t, 1, got[0].Attempts)
		assert.JSONEq(t, `{"n":1}`, string(got[0].Payload))
		assert.Empty(t, takeFor(t, s, o.ID, time.Minute), "leased: no one else takes it, and the next waits")

		// It failed: retry later. Until then nothing of the order is due.
		require.NoError(t, s.FinishOutboxEvent(ctx, got[0], store.OutboxPending, time.Now().Add(time.Hour)))
		assert.Empty(t, takeFor(t, s, o.ID, time.Minute))
		pending, err := s.OutboxPendingBefore(ctx, o.ID, 3)
		require.NoError(t, err)
		assert.True(t, pending, "an event sent outside the outbox waits")

		// Due again (retry time passed): the second attempt, then delivered.
		require.NoError(t, s.FinishOutboxEvent(ctx, got[0], store.OutboxPending, time.Now().Add(time.Hour)),
			"a finished attempt's lease ends nothing more")
		require.NoError(t, store.ExecSQL(ctx, s, "UPDATE merchant_outbox SET next_attempt_at = ? WHERE order_id = ?", time.Now().Add(-time.Second).UTC(), o.ID))
		again := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, again, 1)
		assert.Equal(t, 2, again[0].Attempts)
		require.NoError(t, s.FinishOutboxEvent(ctx, again[0], store.OutboxDelivered, time.Time{}))

		next := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, next, 1)
		assert.Equal(t, 2, next[0].Sequence)
		require.NoError(t, s.FinishOutboxEvent(ctx, next[0], store.OutboxDelivered, time.Time{}))
		states, err := s.OutboxStates(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.OutboxDelivered: 2}, states)
		pending, err = s.OutboxPendingBefore(ctx, o.ID, 3)
		require.NoError(t, err)
		assert.False(t, pending)
		n, oldest, err = s.OutboxBacklog(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.True(t, oldest.IsZero())
	})
}

// A dispatcher that dies mid-attempt holds the event for one lease: then
// another takes it, and the dead one's late answer changes nothing.
func TestOutboxLeaseRunsOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		enqueue(t, s, o.ID, 1, "order.created", "")
		first := takeFor(t, s, o.ID, 50*time.Millisecond)
		require.Len(t, first, 1)
		time.Sleep(80 * time.Millisecond)
		second := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, second, 1, "the lease ran out")
		assert.Equal(t, 2, second[0].Attempts)
		require.NoError(t, s.FinishOutboxEvent(ctx, first[0], store.OutboxFailed, time.Time{}))
		states, err := s.OutboxStates(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.OutboxPending: 1}, states, "the dead attempt's answer is not the event's")
		require.NoError(t, s.FinishOutboxEvent(ctx, second[0], store.OutboxDelivered, time.Time{}))
		states, err = s.OutboxStates(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.OutboxDelivered: 1}, states)
	})
}

// An ending supersedes an order.created that has not left: it is never
// sent. One in flight finishes its attempt first, is not retried, and the
// ending leaves after it.
func TestOutboxEndingSupersedesCreated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		waiting := newOrder(t, s)
		enqueue(t, s, waiting.ID, 1, "order.created", "")
		enqueue(t, s, waiting.ID, 2, "order.cancelled", "order.created")
		got := takeFor(t, s, waiting.ID, time.Minute)
		require.Len(t, got, 1)
		assert.Equal(t, "order.cancelled", got[0].EventType, "order.created never leaves")

		inFlight := newOrder(t, s)
		enqueue(t, s, inFlight.ID, 1, "order.created", "")
		sending := takeFor(t, s, inFlight.ID, time.Minute)
		require.Len(t, sending, 1)
		enqueue(t, s, inFlight.ID, 2, "order.expired", "order.created")
		assert.Empty(t, takeFor(t, s, inFlight.ID, time.Minute), "the ending waits for the attempt in flight")
		require.NoError(t, s.FinishOutboxEvent(ctx, sending[0], store.OutboxPending, time.Now()), "it failed; a retry is asked")
		after := takeFor(t, s, inFlight.ID, time.Minute)
		require.Len(t, after, 1)
		assert.Equal(t, "order.expired", after[0].EventType, "the superseded one is not retried")
		states, err := s.OutboxStates(ctx, inFlight.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.OutboxSuperseded: 1, store.OutboxPending: 1}, states)
	})
}

// Events that left are pruned after the retention; pending ones never are.
func TestOutboxPrune(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		enqueue(t, s, o.ID, 1, "order.created", "")
		enqueue(t, s, o.ID, 2, "order.delivered", "")
		got := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, got, 1)
		require.NoError(t, s.FinishOutboxEvent(ctx, got[0], store.OutboxDelivered, time.Time{}))

		n, err := s.PruneOutbox(ctx, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n, "within the retention")
		_, err = s.PruneOutbox(ctx, time.Now().Add(time.Second))
		require.NoError(t, err)
		states, err := s.OutboxStates(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.OutboxPending: 1}, states, "the delivered one went, the pending one stays")
	})
}

// The payload carries the buyer's address: it is sealed with the key ring,
// bound to its row, and cleared once the event has left.
func TestOutboxPayloadIsSealedAndClearedOnceSent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		secret := `{"shipping":{"line1":"221B Secret Street"}}`
		require.NoError(t, s.EnqueueOutboxEvent(ctx, store.NewOutboxEvent{OrderID: o.ID, Sequence: 1,
			EventType: "order.created", Payload: []byte(secret)}))
		rows := rawRows(t, s, "merchant_outbox")
		require.Len(t, rows, 1)
		assert.True(t, strings.HasPrefix(rows[0]["payload"], "v1:"), "sealed")
		assert.NotContains(t, rows[0]["payload"], "Secret Street")

		got := takeFor(t, s, o.ID, time.Minute)
		require.Len(t, got, 1)
		assert.JSONEq(t, secret, string(got[0].Payload))
		require.NoError(t, s.FinishOutboxEvent(ctx, got[0], store.OutboxDelivered, time.Time{}))
		assert.Empty(t, rawRows(t, s, "merchant_outbox")[0]["payload"], "nothing personal is kept once it left")
	})
}
