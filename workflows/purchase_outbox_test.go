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
func TestMerchantEventsLeaveInOrderWhenTheEndpointIsDown(t *testing.T) {
	h := newHarness(t)
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
}
