package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// orderCardStripe answers SaveOrderCard with err, or a saved visa; the
// other card calls are not expected.
type orderCardStripe struct {
	detachStripe
	err      error
	attempts []int32
}

func (o *orderCardStripe) CreateCustomerWithKey(context.Context, string, string) (string, error) {
	panic("not expected")
}

func (o *orderCardStripe) AttachPaymentMethodWithKey(context.Context, string, string, string) (payments.Card, error) {
	panic("not expected")
}

func (o *orderCardStripe) DeleteCustomer(context.Context, string, string) error {
	panic("not expected")
}

func (o *orderCardStripe) SaveOrderCard(_ context.Context, orderID, pm string, attempt int32) (string, payments.Card, error) {
	o.attempts = append(o.attempts, attempt)
	if o.err != nil {
		return "", payments.Card{}, o.err
	}
	return "cus_" + orderID, payments.Card{ID: pm, Brand: "visa", Last4: "4242"}, nil
}

// The card is saved under the activity's attempt (which scopes Stripe's
// keys); Stripe refusing it is final, Stripe being down is retried.
func TestSaveCardOnNewCustomer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		wantErr models.Kind
	}{
		{name: "saved"},
		{name: "refused", err: models.Invalid("payment_method_unexpected_state", "already used"), wantErr: models.KindInvalid},
		{name: "stripe down", err: models.Errorf(models.KindUnavailable, "stripe_unavailable", "try later"), wantErr: models.KindUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, a, _ := newEnv(t)
			stripe := &orderCardStripe{err: tc.err}
			a.Cards = stripe
			val, err := env.ExecuteActivity(a.SaveCardOnNewCustomer, "ord_1", "pm_9")
			require.Equal(t, []int32{1}, stripe.attempts)
			if tc.wantErr != "" {
				assertKind(t, err, tc.wantErr, "")
				return
			}
			require.NoError(t, err)
			var saved SavedCard
			require.NoError(t, val.Get(&saved))
			require.Equal(t, SavedCard{CustomerID: "cus_ord_1", Card: payments.Card{ID: "pm_9", Brand: "visa", Last4: "4242"}}, saved)
		})
	}
}
