package activities

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// CardChanges is what replacing a saved card, saving a first purchase's
// card after its payment and cleaning up unused customers need of Stripe;
// *payments.Gateway satisfies it. The caller names every idempotency key of
// the calls that belong to no order.
type CardChanges interface {
	CreateCustomerWithKey(ctx context.Context, ref, key string) (string, error)
	AttachPaymentMethodWithKey(ctx context.Context, pmID, customerID, key string) (payments.Card, error)
	DeleteCustomer(ctx context.Context, customerID, key string) error
	SaveOrderCard(ctx context.Context, orderID, pmID string, attempt int32) (string, payments.Card, error)
}

// ProfileCards is the card part of the profile store; *store.Store satisfies it.
type ProfileCards interface {
	ReplaceProfileCard(ctx context.Context, c models.CardChange) (models.Profile, error)
}

var _ CardChanges = (*payments.Gateway)(nil)

func (a *Activities) cardChanges() (CardChanges, error) {
	for _, v := range []any{a.Cards, a.Payments} {
		if c, ok := v.(CardChanges); ok {
			return c, nil
		}
	}
	return nil, failures.ToTemporal(models.Errorf(models.KindUnavailable, "saved_cards_unavailable", "saving cards is not configured"))
}

func (a *Activities) profileCards() (ProfileCards, error) {
	for _, v := range []any{a.Profiles, a.Store} {
		if p, ok := v.(ProfileCards); ok {
			return p, nil
		}
	}
	return nil, failures.ToTemporal(models.Errorf(models.KindUnavailable, "profiles_unavailable", "profiles are not configured"))
}

// CreateProfileCustomer makes a Stripe customer (no personal data on it) for
// a profile that has none; ref names the profile in the customer's metadata.
func (a *Activities) CreateProfileCustomer(ctx context.Context, ref, key string) (string, error) {
	cards, err := a.cardChanges()
	if err != nil {
		return "", err
	}
	id, err := cards.CreateCustomerWithKey(ctx, ref, key)
	return id, failures.ToTemporal(err)
}

// AttachProfileCard attaches the buyer's new card to their customer. Stripe
// refusing the card itself (no such payment method, already used or attached
// elsewhere) is the buyer's to fix, so it becomes invalid_payment_method; a
// decline keeps the issuer's code.
func (a *Activities) AttachProfileCard(ctx context.Context, paymentMethod, customerID, key string) (payments.Card, error) {
	cards, err := a.cardChanges()
	if err != nil {
		return payments.Card{}, err
	}
	card, err := cards.AttachPaymentMethodWithKey(ctx, paymentMethod, customerID, key)
	var e *models.Error
	if errors.As(err, &e) && e.Kind == models.KindInvalid && e.Code != "stripe_auth" {
		err = &models.Error{Kind: models.KindInvalid, Code: "invalid_payment_method",
			Message: "the card cannot be saved: it does not exist or was already used elsewhere", Err: err}
	}
	return card, failures.ToTemporal(err)
}

// ReplaceProfileCard records the new card on the stored profile.
func (a *Activities) ReplaceProfileCard(ctx context.Context, c models.CardChange) error {
	profiles, err := a.profileCards()
	if err != nil {
		return err
	}
	_, err = profiles.ReplaceProfileCard(ctx, c)
	return failures.ToTemporal(err)
}

// DiscardCustomer deletes a Stripe customer that nothing of ours refers to
// (Stripe detaches its cards with it). One Stripe no longer has counts as
// deleted, so retries and replays end quietly.
func (a *Activities) DiscardCustomer(ctx context.Context, customerID, key string) error {
	cards, err := a.cardChanges()
	if err != nil {
		return err
	}
	err = cards.DeleteCustomer(ctx, customerID, key)
	if errors.Is(err, models.ErrNotFound) || models.ErrorKind(err) == models.KindInvalid && !isAuthError(err) {
		a.log().Info("Stripe customer was already gone", "CustomerID", customerID)
		return nil
	}
	return failures.ToTemporal(err)
}

func isAuthError(err error) bool {
	var e *models.Error
	return errors.As(err, &e) && e.Code == "stripe_auth"
}
