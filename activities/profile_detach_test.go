package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// detachStripe answers DetachPaymentMethod with err and counts the calls.
type detachStripe struct {
	err   error
	calls int
}

func (d *detachStripe) CreateCustomer(context.Context, string, payments.CustomerRequest) (string, error) {
	return "", nil
}

func (d *detachStripe) DetachPaymentMethod(context.Context, string, string) error {
	d.calls++
	return d.err
}

// A card Stripe no longer has attached counts as detached, but Stripe
// refusing our credentials says nothing about the card: an erasure must not
// be reported done while the card is still attached.
func TestDetachSavedCard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		wantErr models.Kind
		code    string
	}{
		{name: "detached", err: nil},
		{name: "already gone", err: models.Invalid("invalid_request", "payment method is not attached")},
		{name: "unknown card", err: models.NotFound("payment method")},
		{name: "our credentials refused", err: &models.Error{Kind: models.KindInvalid, Code: "stripe_auth",
			Message: "the payment provider rejected our credentials"}, wantErr: models.KindInvalid, code: "stripe_auth"},
		{name: "stripe down", err: models.Errorf(models.KindUnavailable, "stripe_unavailable", "try later"),
			wantErr: models.KindUnavailable, code: "stripe_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, a, _ := newEnv(t)
			stripe := &detachStripe{err: tc.err}
			a.Cards = stripe
			_, err := env.ExecuteActivity(a.DetachSavedCard, "prof_1", "pm_1")
			require.Equal(t, 1, stripe.calls)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			assertKind(t, err, tc.wantErr, tc.code)
		})
	}
}
