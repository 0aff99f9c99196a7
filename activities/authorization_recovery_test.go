package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// searchingPayments is fakePayments whose intent Stripe's search finds.
type searchingPayments struct {
	*fakePayments
	found     *payments.Intent
	searchErr error
	searched  []string
}

func (p *searchingPayments) FindIntentByOrder(_ context.Context, orderID string) (payments.Intent, bool, error) {
	p.searched = append(p.searched, orderID)
	if p.searchErr != nil || p.found == nil {
		return payments.Intent{}, false, p.searchErr
	}
	return *p.found, true, nil
}

func TestFindAndVoidAuthorization(t *testing.T) {
	held := payments.Intent{ID: "pi_lost", Status: payments.IntentRequiresCapture}
	canceled := payments.Intent{ID: "pi_lost", Status: payments.IntentCanceled}
	cases := []struct {
		name      string
		found     *payments.Intent
		searchErr error
		cancelErr error
		want      AuthorizationRecovery
		wantCalls []string
		wantKind  models.Kind
		wantCode  string
	}{
		{name: "held intent is voided", found: &held,
			want:      AuthorizationRecovery{IntentID: "pi_lost", Status: payments.IntentCanceled, Voided: true},
			wantCalls: []string{"Cancel:pi_lost"}},
		{name: "canceled intent is left alone", found: &canceled,
			want: AuthorizationRecovery{IntentID: "pi_lost", Status: payments.IntentCanceled}},
		{name: "nothing found yet is retryable", wantKind: models.KindUnavailable, wantCode: CodeAuthorizationNotFound},
		{name: "search down is retryable", searchErr: models.Errorf(models.KindUnavailable, "stripe_unavailable", "down"),
			wantKind: models.KindUnavailable, wantCode: "stripe_unavailable"},
		{name: "void failing is retryable", found: &held, cancelErr: models.Errorf(models.KindUnavailable, "stripe_unavailable", "down"),
			wantCalls: []string{"Cancel:pi_lost"}, wantKind: models.KindUnavailable, wantCode: "stripe_unavailable"},
		{name: "captured intent cannot be voided", found: &held,
			cancelErr: models.Conflict("payment_intent_unexpected_state", "captured"),
			wantCalls: []string{"Cancel:pi_lost"}, wantKind: models.KindConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			d.payments.intent, d.payments.err = canceled, tc.cancelErr
			pay := &searchingPayments{fakePayments: d.payments, found: tc.found, searchErr: tc.searchErr}
			a.Payments = pay

			val, err := env.ExecuteActivity(a.FindAndVoidAuthorization, "ord_1")
			assert.Equal(t, []string{"ord_1"}, pay.searched)
			assert.Equal(t, tc.wantCalls, d.payments.calls)
			if tc.wantKind != "" {
				assertKind(t, err, tc.wantKind, tc.wantCode)
				return
			}
			require.NoError(t, err)
			var got AuthorizationRecovery
			require.NoError(t, val.Get(&got))
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFindAndVoidAuthorizationNeedsSearch(t *testing.T) {
	env, a, d := newEnv(t) // fakePayments cannot search
	_, err := env.ExecuteActivity(a.FindAndVoidAuthorization, "ord_1")
	assertKind(t, err, models.KindInternal, "intent_search_unsupported")
	assert.Empty(t, d.payments.calls)
}
