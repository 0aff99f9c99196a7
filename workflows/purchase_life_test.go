package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/buybutton/checkout/models"
)

// An accepted order the merchant never ships is cancelled at the ship-by
// deadline: the buyer is refunded, the stock released, the merchant told,
// and the workflow ends.
func TestAcceptedOrderNotShippedByTheDeadlineIsRefunded(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.run(testInput())

	o := finalStatus(t, h)
	assert.Equal(t, models.StatusCancelled, o.Status)
	assert.Equal(t, "ship_by_expired", o.FailureCode)
	assert.Equal(t, int64(2000), o.RefundedMinor)
	assert.GreaterOrEqual(t, h.env.Now().Sub(start), time.Hour+DefaultShipBy)
	calls, notified, _ := h.snapshot()
	assert.Contains(t, calls, "CreateRefund")
	assert.Contains(t, calls, "ReleaseStock")
	assert.Equal(t, []string{EventOrderCreated, EventOrderCancelled, EventOrderRefunded}, notified)
}

// The ship-by setting from the order's input replaces the default.
func TestShipByComesFromTheInput(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	in := testInput()
	in.ShipBy = 24 * time.Hour
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.run(in)

	assert.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	assert.Less(t, h.env.Now().Sub(start), DefaultShipBy)
}

// A shipped order nobody confirms completes by itself after the
// auto-complete period, and the workflow ends.
func TestShippedOrderCompletesByItself(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateShip, "", ship)
	h.run(testInput())

	o := finalStatus(t, h)
	assert.Equal(t, models.StatusDelivered, o.Status)
	assert.Zero(t, o.RefundedMinor)
	assert.GreaterOrEqual(t, h.env.Now().Sub(start), 2*time.Hour+DefaultAutoCompleteAfter)
	_, notified, stored := h.snapshot()
	assert.Equal(t, models.StatusDelivered, stored.Status)
	assert.Equal(t, []string{EventOrderCreated, EventOrderDelivered}, notified)
}
