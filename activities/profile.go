package activities

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// SavedCards is what saving a buyer's card needs of Stripe;
// *payments.Gateway satisfies it.
type SavedCards interface {
	CreateCustomer(ctx context.Context, orderID string, c payments.CustomerRequest) (string, error)
	DetachPaymentMethod(ctx context.Context, pmID string, key string) error
}

// Profiles is the profile part of the read model; *store.Store satisfies it.
type Profiles interface {
	SaveProfile(ctx context.Context, p models.Profile) (models.Profile, error)
}

// cards and profiles default to Payments and Store when those can do it, as
// *payments.Gateway and *store.Store do.
func (a *Activities) cards() SavedCards {
	if a.Cards != nil {
		return a.Cards
	}
	c, _ := a.Payments.(SavedCards)
	return c
}

func (a *Activities) profiles() Profiles {
	if a.Profiles != nil {
		return a.Profiles
	}
	p, _ := a.Store.(Profiles)
	return p
}

// SavedCard is a buyer's new Stripe customer and the card to save on it.
// Before the payment Card holds only the payment method as the buyer gave it
// (and CustomerID is empty until the card is saved on one); the
// authorization fills in the payment method it set up and the rest.
type SavedCard struct {
	CustomerID string        `json:"customer_id"`
	Card       payments.Card `json:"card"`
}

// PrepareSavedCard creates the buyer's Stripe customer before the first
// payment, which then saves the card on it (setup_future_usage), for
// purchases started before the card was saved after the buyer's answer
// (SaveCardOnNewCustomer):
// Stripe advises against attaching a card before its first use, since the
// issuer then sees an unauthenticated save and declines more later. The
// customer carries no personal data; what the buyer asked to be remembered
// is kept encrypted in our store. Retries reuse the idempotency key
// order:<id>:customer.
func (a *Activities) PrepareSavedCard(ctx context.Context, orderID, paymentMethod string) (SavedCard, error) {
	cards := a.cards()
	if cards == nil {
		return SavedCard{}, failures.ToTemporal(models.Errorf(models.KindUnavailable, "saved_cards_unavailable", "saving cards is not configured"))
	}
	cus, err := cards.CreateCustomer(ctx, orderID, payments.CustomerRequest{})
	if err != nil {
		return SavedCard{}, failures.ToTemporal(err)
	}
	return SavedCard{CustomerID: cus, Card: payments.Card{ID: paymentMethod}}, nil
}

// SaveCardOnNewCustomer saves the card a first purchase's authorization set
// up for later use (setup_future_usage, no customer) on a new Stripe
// customer, after the buyer has their answer. The customer carries no
// personal data. Retries find the customer and the attach an earlier
// attempt made (payments.Gateway.SaveOrderCard); a card Stripe refuses to
// attach leaves no customer behind.
func (a *Activities) SaveCardOnNewCustomer(ctx context.Context, orderID, paymentMethod string) (SavedCard, error) {
	cards, err := a.cardChanges()
	if err != nil {
		return SavedCard{}, err
	}
	cus, card, err := cards.SaveOrderCard(ctx, orderID, paymentMethod, attempt(ctx))
	if err != nil {
		return SavedCard{}, failures.ToTemporal(err)
	}
	return SavedCard{CustomerID: cus, Card: card}, nil
}

// SaveProfileInput is a first purchase's details to remember.
type SaveProfileInput struct {
	OrderID  string         `json:"order_id"`
	BuyerID  string         `json:"buyer_id"`
	Shipping models.Address `json:"shipping_address"`
	Email    string         `json:"email,omitempty"`
	Phone    string         `json:"phone,omitempty"`
	Card     SavedCard      `json:"card"`
}

// SaveBuyerProfile stores the buyer's profile (encrypted by the store). A
// buyer who saved meanwhile keeps the profile they have.
func (a *Activities) SaveBuyerProfile(ctx context.Context, in SaveProfileInput) error {
	profiles := a.profiles()
	if profiles == nil {
		return failures.ToTemporal(models.Errorf(models.KindUnavailable, "profiles_unavailable", "profiles are not configured"))
	}
	_, err := profiles.SaveProfile(ctx, models.Profile{
		ID:               models.ProfileIDFromOrder(in.OrderID),
		BuyerID:          in.BuyerID,
		Shipping:         in.Shipping,
		Email:            in.Email,
		Phone:            in.Phone,
		StripeCustomerID: in.Card.CustomerID,
		PaymentMethodID:  in.Card.Card.ID,
		Card: models.CardSummary{Brand: in.Card.Card.Brand, Last4: in.Card.Card.Last4,
			ExpMonth: in.Card.Card.ExpMonth, ExpYear: in.Card.Card.ExpYear},
	})
	return failures.ToTemporal(err)
}

// DetachSavedCard forgets an erased profile's card at Stripe. The key is
// derived from the profile and the card, so retries are one request; a card
// Stripe no longer has attached counts as detached.
func (a *Activities) DetachSavedCard(ctx context.Context, profileID, paymentMethod string) error {
	cards := a.cards()
	if cards == nil {
		return failures.ToTemporal(models.Errorf(models.KindUnavailable, "saved_cards_unavailable", "saving cards is not configured"))
	}
	err := cards.DetachPaymentMethod(ctx, paymentMethod, "profile:"+profileID+":detach:"+paymentMethod)
	// Stripe refusing our credentials is also "invalid", but says nothing
	// about the card: it must fail, not pass as an erasure done.
	if models.ErrorKind(err) == models.KindInvalid && !isAuthError(err) || errors.Is(err, models.ErrNotFound) {
		a.log().Info("Saved card was already gone at Stripe", "ProfileID", profileID)
		return nil
	}
	return failures.ToTemporal(err)
}
