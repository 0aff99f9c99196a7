package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"

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
	prepared   int
	saved      []activities.SaveProfileInput
	authorized []payments.AuthorizeRequest
}

func watchProfile(h *harness, prepareErr error) *profileSpy {
	spy := &profileSpy{}
	h.env.OnActivity(acts.PrepareSavedCard, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, orderID, pm string) (activities.SavedCard, error) {
			spy.mu.Lock()
			defer spy.mu.Unlock()
			spy.prepared++
			if prepareErr != nil {
				return activities.SavedCard{}, prepareErr
			}
			return activities.SavedCard{CustomerID: "cus_1", Card: payments.Card{ID: "pm_card_visa", Brand: "visa", Last4: "4242"}}, nil
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
		if info.ActivityType.Name != "AuthorizePayment" {
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

func TestFirstPurchaseSavesProfileAfterAuthorization(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	in := testInput()
	in.SaveDetails, in.Email = true, "ada@example.com"
	h.run(in)

	require.Equal(t, 1, spy.prepared)
	require.Len(t, spy.authorized, 1)
	require.Equal(t, "pm_card_visa", spy.authorized[0].PaymentMethod)
	require.Equal(t, "cus_1", spy.authorized[0].Customer)
	require.True(t, spy.authorized[0].SaveCard, "the payment saves the card (setup_future_usage)")
	require.Len(t, spy.saved, 1)
	got := spy.saved[0]
	require.Equal(t, in.OrderID, got.OrderID)
	require.Equal(t, in.BuyerID, got.BuyerID)
	require.Equal(t, "London", got.Shipping.City)
	require.Equal(t, "ada@example.com", got.Email)
	require.Equal(t, "cus_1", got.Card.CustomerID)
}

func TestDeclinedFirstPurchaseSavesNothing(t *testing.T) {
	h := newHarness(t)
	spy := watchProfile(h, nil)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	in := testInput()
	in.SaveDetails = true
	h.run(in)

	require.Equal(t, 1, spy.prepared)
	require.Empty(t, spy.saved)
	_, _, o := h.snapshot()
	require.Equal(t, models.StatusPaymentFailed, o.Status)
}

func TestFailedCardSavingStillPays(t *testing.T) {
	h := newHarness(t)
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
		require.Empty(t, spy.saved)
		require.Len(t, spy.authorized, 1)
		require.Equal(t, "cus_saved", spy.authorized[0].Customer)
	}
}
