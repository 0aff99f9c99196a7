package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// discardSpy records the customers a purchase deleted at Stripe.
type discardSpy struct {
	mu        sync.Mutex
	customers []string
	keys      []string
}

func watchDiscards(h *harness) *discardSpy {
	spy := &discardSpy{}
	h.env.OnActivity(acts.DiscardCustomer, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, customer, key string) error {
			spy.mu.Lock()
			defer spy.mu.Unlock()
			spy.customers = append(spy.customers, customer)
			spy.keys = append(spy.keys, key)
			return nil
		})
	return spy
}

// A first purchase makes no Stripe customer before the buyer's answer, so a
// declined one has none to delete.
func TestDeclinedFirstPurchaseMakesNoCustomer(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	discards := watchDiscards(h)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Zero(t, spy.prepared)
	require.Empty(t, spy.attached)
	require.Empty(t, discards.customers)
	calls, _, o := h.snapshot()
	require.Equal(t, models.StatusPaymentFailed, o.Status)
	require.Contains(t, calls, "ReleaseStock")
}

// Before changeLeanHistory the customer was made first: a declined purchase
// deletes it.
func TestDeclinedFirstPurchaseBeforeTheChangeDeletesTheNewCustomer(t *testing.T) {
	h := newHarness(t)
	h.startedBeforeLeanHistory()
	watchProfile(h, nil)
	discards := watchDiscards(h)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Equal(t, []string{"cus_1"}, discards.customers)
	require.Equal(t, []string{"order:" + in.OrderID + ":customer-delete"}, discards.keys)
	calls, _, o := h.snapshot()
	require.Equal(t, models.StatusPaymentFailed, o.Status)
	require.Contains(t, calls, "ReleaseStock")
}

// A workflow cancelled while the card is being saved after the answer waits
// for the step, then deletes the customer it made: no profile will name it.
func TestCancelledWhileSavingTheCardDeletesTheCustomer(t *testing.T) {
	h := newHarness(t)
	h.intent.Card = &setUpCard
	h.env.OnActivity(acts.SaveCardOnNewCustomer, mock.Anything, mock.Anything, mock.Anything).
		After(time.Minute).Return(activities.SavedCard{CustomerID: "cus_late", Card: setUpCard}, nil)
	profiles := 0
	h.env.OnActivity(acts.SaveBuyerProfile, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.SaveProfileInput) error { profiles++; return nil })
	discards := watchDiscards(h)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 10*time.Second)
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Equal(t, models.StatusAuthorized, h.pay.result.(PayResult).Status)
	require.Equal(t, []string{"cus_late"}, discards.customers)
	require.Zero(t, profiles)
	calls, _, o := h.snapshot()
	require.Equal(t, models.StatusCancelled, o.Status)
	require.Contains(t, calls, "VoidAuthorization")
}

func TestRejectedSavedPurchaseKeepsTheProfileCustomer(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	discards := watchDiscards(h)
	in := testInput()
	in.SaveDetails = true
	rej := h.updateAt(time.Hour, UpdateReject, "", RejectInput{Actor: "merchant:mer_1", Reason: "out of mugs"})
	h.run(in)

	require.True(t, rej.completed)
	require.Len(t, spy.saved, 1)
	require.Empty(t, discards.customers, "the customer backs the saved profile")
	calls, _, o := h.snapshot()
	require.Equal(t, models.StatusRejected, o.Status)
	require.Contains(t, calls, "VoidAuthorization")
}

func TestPurchaseWithoutSavingDeletesNoCustomer(t *testing.T) {
	h := newHarness(t)
	discards := watchDiscards(h)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	h.run(testInput())

	require.Empty(t, discards.customers)
}

// Histories recorded before the compensation existed replay without it.
func TestDeclinedFirstPurchaseBeforeTheChangeKeepsOldBehaviour(t *testing.T) {
	h := newHarness(t)
	watchProfile(h, nil)
	discards := watchDiscards(h)
	h.startedBeforeLeanHistory()
	h.env.OnGetVersion(discardUnusedCustomerChange, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Empty(t, discards.customers)
	_, _, o := h.snapshot()
	require.Equal(t, models.StatusPaymentFailed, o.Status)
}
