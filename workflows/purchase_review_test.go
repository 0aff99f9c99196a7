package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// An operator cancelling the workflow of an order the merchant was told to
// fulfil voids the money and releases the stock, and must tell the merchant
// too: otherwise they ship goods nobody pays for.
func TestPurchaseWorkflowCancelledTellsTheNotifiedMerchant(t *testing.T) {
	for _, tc := range []struct {
		name         string
		arrange      func(h *harness)
		wantUndo     string
		wantNotified []string
	}{
		{name: "authorized", arrange: func(*harness) {}, wantUndo: "VoidAuthorization",
			wantNotified: []string{EventOrderCreated, EventOrderCancelled}},
		{name: "accepted", arrange: func(h *harness) { h.updateAt(time.Hour, UpdateAccept, "", accept) }, wantUndo: "CreateRefund",
			wantNotified: []string{EventOrderCreated, EventOrderCancelled, EventOrderRefunded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.arrange(h)
			h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 2*time.Hour)
			h.run(testInput())

			_, err := h.result()
			var canceled *temporal.CanceledError
			require.ErrorAs(t, err, &canceled)
			calls, notified, stored := h.snapshot()
			assert.Contains(t, calls, tc.wantUndo)
			assert.Contains(t, calls, "ReleaseStock")
			assert.Equal(t, models.StatusCancelled, stored.Status)
			assert.Equal(t, tc.wantNotified, notified)
		})
	}
}

// An operator cancelling before the merchant heard of the order sends them
// nothing: there is nothing for them to stop.
func TestPurchaseWorkflowCancelledBeforeNotifyingTellsNobody(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Minute)
	h.run(testInput())

	_, notified, stored := h.snapshot()
	assert.Equal(t, models.StatusCancelled, stored.Status)
	assert.Empty(t, notified)
}

// A buyer's cancel that lands while a first purchase's profile is being
// saved: in a workflow started before changeLeanHistory it ends the order
// before the merchant was told of it, and the merchant is then not told to
// fulfil it (order.created) at all. In a lean one, where the card is saved
// by a Stripe step after the answer, the cancel waits until the profile is
// saved and order.created is sent: the merchant hears of the order, then of
// its cancellation, never the reverse.
func TestCancelDuringProfileSave(t *testing.T) {
	for _, lean := range []bool{true, false} {
		h := newHarness(t)
		if !lean {
			h.startedBeforeLeanHistory()
		}
		saved := activities.SavedCard{CustomerID: "cus_1", Card: payments.Card{ID: "pm_card_visa"}}
		h.env.OnActivity(acts.PrepareSavedCard, mock.Anything, mock.Anything, mock.Anything).Return(saved, nil)
		h.env.OnActivity(acts.SaveCardOnNewCustomer, mock.Anything, mock.Anything, mock.Anything).Return(saved, nil)
		h.env.OnActivity(acts.DiscardCustomer, mock.Anything, mock.Anything, mock.Anything).Return(nil)
		var mu sync.Mutex
		saves := 0
		// The store is briefly unreachable: the profile write retries, and
		// the buyer's cancel arrives between its attempts.
		h.env.OnActivity(acts.SaveBuyerProfile, mock.Anything, mock.Anything).Return(
			func(context.Context, activities.SaveProfileInput) error {
				mu.Lock()
				defer mu.Unlock()
				saves++
				if saves < 4 {
					return failures.ToTemporal(models.Errorf(models.KindUnavailable, "db_down", "database unreachable"))
				}
				return nil
			})
		in := testInput()
		in.SaveDetails = true
		cancelled := h.updateAt(time.Second, UpdateCancel, "", cancel)
		h.run(in)

		assertOrder(t, cancelled, models.StatusCancelled)
		calls, notified, stored := h.snapshot()
		assert.Equal(t, models.StatusCancelled, stored.Status)
		assert.Contains(t, calls, "VoidAuthorization")
		if lean {
			// order.created then the ending, or only the ending when the
			// cancel superseded an order.created not yet sent.
			if len(notified) == 1 {
				assert.Equal(t, []string{EventOrderCancelled}, notified)
			} else {
				assert.Equal(t, []string{EventOrderCreated, EventOrderCancelled}, notified)
			}
			assert.Equal(t, 4, saves, "the profile was saved before the cancel")
		} else {
			assert.NotContains(t, notified, EventOrderCreated)
			assert.NotContains(t, notified, EventOrderCancelled)
		}
	}
}

// Saving the buyer's details is a convenience: a profile write that keeps
// failing (a sealing key missing, say) gives up after its quick attempts,
// and the merchant still hears of the order at once, inside the
// authorization's life.
func TestFailingProfileSaveDoesNotHoldUpTheOrder(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(acts.SaveCardOnNewCustomer, mock.Anything, mock.Anything, mock.Anything).Return(
		activities.SavedCard{CustomerID: "cus_1", Card: payments.Card{ID: "pm_card_visa"}}, nil)
	var mu sync.Mutex
	saves := 0
	h.env.OnActivity(acts.SaveBuyerProfile, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.SaveProfileInput) error {
			mu.Lock()
			defer mu.Unlock()
			saves++
			return failures.ToTemporal(models.Errorf(models.KindInternal, "seal_failed", "no sealing key"))
		})
	in := testInput()
	in.SaveDetails = true
	acc := h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateShip, "", ship)
	h.updateAt(3*time.Hour, UpdateDeliver, "", deliver)
	h.run(in)

	assertOrder(t, acc, models.StatusAccepted)
	_, notified, stored := h.snapshot()
	assert.Equal(t, models.StatusDelivered, stored.Status)
	assert.Contains(t, notified, EventOrderCreated)
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, saves, int(localStoreOptions.RetryPolicy.MaximumAttempts), "the profile write is not retried for days")
}
