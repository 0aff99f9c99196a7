package workflows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// profileSpy records what the saved-card steps were asked to do.
type profileSpy struct {
	mu         sync.Mutex
	prepared   int      // PrepareSavedCard: the customer before the payment (before changeLeanHistory)
	attached   []string // SaveCardOnNewCustomer: the payment methods saved after the answer
	answered   []bool   // whether the pay update had answered when each was asked
	saved      []activities.SaveProfileInput
	authorized []payments.AuthorizeRequest
}

// setUpCard is the payment method the authorization set up for later use
// (a test token such as pm_card_visa mints a new one at Stripe).
var setUpCard = payments.Card{ID: "pm_set_up", Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034}

// watchProfile fakes the saved-card steps; stepErr fails the Stripe one
// (PrepareSavedCard, or SaveCardOnNewCustomer in a lean workflow). The
// authorization reports the card it set up.
func watchProfile(h *harness, stepErr error) *profileSpy {
	spy := &profileSpy{}
	h.intent.Card = &setUpCard
	h.env.OnActivity(acts.PrepareSavedCard, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, orderID, pm string) (activities.SavedCard, error) {
			spy.mu.Lock()
			defer spy.mu.Unlock()
			spy.prepared++
			if stepErr != nil {
				return activities.SavedCard{}, stepErr
			}
			return activities.SavedCard{CustomerID: "cus_1", Card: payments.Card{ID: pm}}, nil
		})
	h.env.OnActivity(acts.SaveCardOnNewCustomer, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, orderID, pm string) (activities.SavedCard, error) {
			h.call("SaveCardOnNewCustomer")
			spy.mu.Lock()
			defer spy.mu.Unlock()
			spy.attached = append(spy.attached, pm)
			spy.answered = append(spy.answered, h.pay.completed)
			if stepErr != nil {
				return activities.SavedCard{}, stepErr
			}
			return activities.SavedCard{CustomerID: "cus_1", Card: setUpCard}, nil
		})
	h.env.OnActivity(acts.SaveBuyerProfile, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SaveProfileInput) error {
			spy.mu.Lock()
			defer spy.mu.Unlock()
			spy.saved = append(spy.saved, in)
			return nil
		})
	// The authorization runs as a local activity first, and as a regular
	// one when those attempts run out.
	authorizing := func(info *activity.Info, _ context.Context, args []any) {
		if name := info.ActivityType.Name; name != "AuthorizePayment" && name != "AuthorizeAndRecord" && name != "AuthorizeRecordAndAnnounce" {
			return
		}
		if req, ok := args[0].(payments.AuthorizeRequest); ok {
			spy.mu.Lock()
			spy.authorized = append(spy.authorized, req)
			spy.mu.Unlock()
		}
	}
	h.env.SetOnLocalActivityStartedListener(authorizing)
	h.env.SetOnActivityStartedListener(func(info *activity.Info, ctx context.Context, args converter.EncodedValues) {
		var req payments.AuthorizeRequest
		if err := args.Get(&req); err == nil {
			authorizing(info, ctx, []any{req})
		}
	})
	return spy
}

// A first purchase makes one Stripe call before the buyer's answer: the
// authorization sets the card up (setup_future_usage) with no customer.
// Only after the answer, and before the merchant hears of the order, is the
// card saved on a new customer and the profile written.
func TestFirstPurchaseSavesTheCardAfterTheAnswer(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	in := testInput()
	in.SaveDetails, in.Email = true, "ada@example.com"
	h.run(in)

	require.Equal(t, models.StatusAuthorized, h.pay.result.(PayResult).Status)
	require.Zero(t, spy.prepared, "no customer before the payment")
	require.Len(t, spy.authorized, 1)
	require.Equal(t, "pm_card_visa", spy.authorized[0].PaymentMethod)
	require.Empty(t, spy.authorized[0].Customer)
	require.True(t, spy.authorized[0].SaveCard, "the payment sets the card up (setup_future_usage)")
	require.Equal(t, []string{setUpCard.ID}, spy.attached, "the method the authorization set up is the one saved")
	require.Equal(t, []bool{true}, spy.answered, "the card is saved after the buyer's answer")
	calls, notified, _ := h.snapshot()
	require.Less(t, slices.Index(calls, "AuthorizePayment"), slices.Index(calls, "SaveCardOnNewCustomer"))
	require.Contains(t, notified, EventOrderCreated)
	require.Len(t, spy.saved, 1)
	got := spy.saved[0]
	require.Equal(t, in.OrderID, got.OrderID)
	require.Equal(t, in.BuyerID, got.BuyerID)
	require.Equal(t, "London", got.Shipping.City)
	require.Equal(t, "ada@example.com", got.Email)
	require.Equal(t, activities.SavedCard{CustomerID: "cus_1", Card: setUpCard}, got.Card)
}

// A workflow started before changeLeanHistory replays its order: the
// customer first, on the waiting path, then the payment saving the card on it.
func TestFirstPurchaseBeforeTheChangeMakesTheCustomerFirst(t *testing.T) {
	h := newHarness(t)
	h.startedBeforeLeanHistory()
	spy := watchProfile(h, nil)
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Equal(t, 1, spy.prepared)
	require.Empty(t, spy.attached)
	require.Len(t, spy.authorized, 1)
	require.Equal(t, "cus_1", spy.authorized[0].Customer)
	require.True(t, spy.authorized[0].SaveCard)
	require.Len(t, spy.saved, 1)
	require.Equal(t, activities.SavedCard{CustomerID: "cus_1", Card: setUpCard}, spy.saved[0].Card)
}

func TestDeclinedFirstPurchaseSavesNothing(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Zero(t, spy.prepared)
	require.Empty(t, spy.attached, "no card is saved for a declined payment")
	require.Empty(t, spy.saved)
	_, _, o := h.snapshot()
	require.Equal(t, models.StatusPaymentFailed, o.Status)
}

// Saving the card after the answer is a convenience: Stripe refusing it,
// or not answering within the step's attempts, leaves the order authorized
// and the merchant told, with no profile.
func TestCardSavingFailingAfterTheAnswerStillGoesOn(t *testing.T) {
	for name, err := range map[string]error{
		"refused":     failures.ToTemporal(models.Errorf(models.KindInvalid, "payment_method_unexpected_state", "already used")),
		"unavailable": failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "try later")),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			spy := watchProfile(h, err)
			in := testInput()
			in.SaveDetails = true
			acc := h.updateAt(time.Hour, UpdateAccept, "", accept)
			h.run(in)

			require.Equal(t, models.StatusAuthorized, h.pay.result.(PayResult).Status)
			require.NotEmpty(t, spy.attached)
			require.LessOrEqual(t, len(spy.attached), int(saveCardOptions.RetryPolicy.MaximumAttempts))
			require.Empty(t, spy.saved, "no profile names a card that was not saved")
			_, notified, _ := h.snapshot()
			require.Contains(t, notified, EventOrderCreated)
			assertOrder(t, acc, models.StatusAccepted)
		})
	}
}

// Before changeLeanHistory the customer came first; failing to make it paid
// without saving.
func TestFailedCardSavingBeforeTheChangeStillPays(t *testing.T) {
	h := newHarness(t)
	h.startedBeforeLeanHistory()
	spy := watchProfile(h, failures.ToTemporal(models.Errorf(models.KindInvalid, "resource_missing", "no such payment method")))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Len(t, spy.authorized, 1)
	require.Equal(t, in.PaymentMethod, spy.authorized[0].PaymentMethod)
	require.Empty(t, spy.authorized[0].Customer)
	require.Empty(t, spy.saved)
	require.Equal(t, models.StatusAuthorized, h.pay.result.(PayResult).Status)
}

func TestOneTapPurchaseUsesSavedCustomer(t *testing.T) {
	for _, save := range []bool{false, true} {
		h := newHarness(t)
		spy := watchProfile(h, errors.New("must not be called"))
		in := testInput()
		in.Customer, in.SaveDetails = "cus_saved", save
		h.run(in)

		require.Zero(t, spy.prepared, "a saved buyer's card is not attached again")
		require.Empty(t, spy.attached, "a saved buyer's card is not attached again")
		require.Empty(t, spy.saved)
		require.Len(t, spy.authorized, 1)
		require.Equal(t, "cus_saved", spy.authorized[0].Customer)
	}
}
