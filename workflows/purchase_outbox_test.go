package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

// The merchant's endpoint is down when the buyer cancels: order.created is
// still being retried. The merchant then receives order.created and
// order.cancelled in that order, or only order.cancelled — never the
// reverse — each numbered in sequence and carrying the order as it was
// when the event happened.
//
// Before leanStoreOutbox the workflow sent them itself; since, the store's
// outbox does (activities' dispatcher tests, and the next test here).
func TestMerchantEventsLeaveInOrderWhenTheEndpointIsDown(t *testing.T) {
	h := newHarness(t)
	h.startedWithActivityOutbox()
	h.notifyFailures = 6
	h.updateAt(time.Minute, UpdateCancel, "", cancel)
	h.run(testInput())

	require.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(t, h.delivered)
	last := h.delivered[len(h.delivered)-1]
	assert.Equal(t, EventOrderCancelled, last.EventType, "the ending arrives last")
	require.NotNil(t, last.Order)
	assert.Equal(t, models.StatusCancelled, last.Order.Status, "snapshot of the order when it was cancelled")
	for i, ev := range h.delivered {
		if i > 0 {
			assert.Greater(t, ev.Sequence, h.delivered[i-1].Sequence, "sequence numbers rise")
		}
		if ev.EventType == EventOrderCreated {
			assert.Equal(t, 1, ev.Sequence)
			assert.Equal(t, models.StatusAuthorized, ev.Order.Status)
		}
	}
	assert.Equal(t, 2, last.Sequence)
}

// The workflow keeps the order's events in the store's outbox in the order
// they happened, numbered, each with the order as it was then; the ending
// supersedes an order.created that has not left, so the dispatcher never
// sends one after it. No notification activity runs.
func TestMerchantEventsAreKeptInTheStoreOutbox(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Minute, UpdateCancel, "", cancel)
	h.run(testInput())

	require.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Zero(t, h.notifyAttempts, "no notification activity")
	require.Len(t, h.delivered, 2)
	assert.Equal(t, EventOrderCreated, h.delivered[0].EventType)
	assert.Equal(t, 1, h.delivered[0].Sequence)
	assert.Equal(t, models.StatusAuthorized, h.delivered[0].Order.Status)
	assert.Equal(t, EventOrderCancelled, h.delivered[1].EventType)
	assert.Equal(t, 2, h.delivered[1].Sequence)
	assert.Equal(t, models.StatusCancelled, h.delivered[1].Order.Status)
	assert.Equal(t, []string{EventOrderCancelled + ">" + EventOrderCreated}, h.supersedes)
}

// With a healthy endpoint every event arrives once, in the order it happened.
func TestMerchantEventsAreNumberedInOrder(t *testing.T) {
	h := newHarness(t)
	h.runToDelivered()

	h.mu.Lock()
	defer h.mu.Unlock()
	var types []string
	for i, ev := range h.delivered {
		types = append(types, ev.EventType)
		assert.Equal(t, i+1, ev.Sequence)
	}
	assert.Equal(t, []string{EventOrderCreated, EventOrderDelivered}, types)
	assert.Equal(t, models.StatusDelivered, h.delivered[1].Order.Status)
	assert.Equal(t, 2, h.folded, "order.created is kept in the step that records the authorization, order.delivered in the one that records the delivery")
	assert.Zero(t, h.notifyAttempts, "no notification activity")
}
