package activities

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// ledgerStore is the fake store with a refund ledger: one refund row per key.
type ledgerStore struct {
	*fakeStore
	order    models.Order
	refunds  map[string]models.Refund
	finished []string
}

func (s *ledgerStore) ReserveRefund(_ context.Context, r models.NewRefund) (models.Refund, models.Order, error) {
	if rf, ok := s.refunds[r.Key]; ok {
		return rf, s.order, nil
	}
	if err := models.CheckRefund(s.order, r.AmountMinor); err != nil {
		return models.Refund{}, models.Order{}, err
	}
	rf := models.Refund{OrderID: r.OrderID, Key: r.Key, AmountMinor: r.AmountMinor, Status: models.RefundPending}
	s.refunds[r.Key] = rf
	s.order.RefundedMinor += r.AmountMinor
	return rf, s.order, nil
}

func (s *ledgerStore) MoveStripeRefund(ctx context.Context, orderID, key, stripeID string, status models.RefundStatus) (models.Refund, models.Order, models.RefundStatus, error) {
	before := s.refunds[key].Status
	rf, o, err := s.RecordStripeRefund(ctx, orderID, key, stripeID, status)
	return rf, o, before, err
}

func (s *ledgerStore) RecordStripeRefund(_ context.Context, _, key, stripeID string, status models.RefundStatus) (models.Refund, models.Order, error) {
	rf := s.refunds[key]
	if status != models.RefundPending {
		s.finished = append(s.finished, key)
	}
	if stripeID != "" {
		rf.StripeRefundID = stripeID
	}
	if status == models.RefundFailed && rf.Status != models.RefundFailed {
		s.order.RefundedMinor -= rf.AmountMinor
	}
	rf.Status = status
	s.refunds[key] = rf
	return rf, s.order, nil
}

func newRefundEnv(t *testing.T, stripeErr error) (*testsuite.TestActivityEnvironment, *Activities, *ledgerStore, *fakePayments) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	st := &ledgerStore{fakeStore: newFakeStore(), refunds: map[string]models.Refund{},
		order: models.Order{ID: "ord_1", PaymentIntentID: "pi_1", Status: models.StatusAccepted, CapturedMinor: 3000}}
	pay := &fakePayments{err: stripeErr}
	a := &Activities{Store: st, Payments: pay, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.RegisterActivity(a)
	return env, a, st, pay
}

func TestRefundOrder(t *testing.T) {
	in := models.NewRefund{OrderID: "ord_1", Key: "merchant-key-1", AmountMinor: 1000, Actor: "merchant:m"}

	t.Run("refunds through the ledger and Stripe", func(t *testing.T) {
		env, a, st, pay := newRefundEnv(t, nil)
		v, err := env.ExecuteActivity(a.RefundOrder, in)
		require.NoError(t, err)
		var res RefundResult
		require.NoError(t, v.Get(&res))
		assert.Equal(t, models.RefundSucceeded, res.Refund.Status)
		assert.Equal(t, "re_1", res.Refund.StripeRefundID)
		assert.Equal(t, int64(1000), res.Order.RefundedMinor)
		assert.Equal(t, []string{"Refund:pi_1"}, pay.calls)

		// Done already: a retry does not call Stripe again.
		_, err = env.ExecuteActivity(a.RefundOrder, in)
		require.NoError(t, err)
		assert.Len(t, pay.calls, 1)
		assert.Equal(t, []string{in.Key}, st.finished)
	})

	t.Run("excess is refused before Stripe", func(t *testing.T) {
		env, a, _, pay := newRefundEnv(t, nil)
		big := in
		big.AmountMinor = 3001
		_, err := env.ExecuteActivity(a.RefundOrder, big)
		assertKind(t, err, models.KindConflict, "refund_exceeds_captured")
		assert.Empty(t, pay.calls)
	})

	t.Run("Stripe refusing releases the reservation", func(t *testing.T) {
		env, a, st, _ := newRefundEnv(t, models.Invalid("charge_already_refunded", "already refunded"))
		_, err := env.ExecuteActivity(a.RefundOrder, in)
		assertKind(t, err, models.KindInvalid, "charge_already_refunded")
		assert.Equal(t, models.RefundFailed, st.refunds[in.Key].Status)
		assert.Equal(t, int64(0), st.order.RefundedMinor)
	})

	t.Run("a pending refund stays counted and is read again until Stripe settles it", func(t *testing.T) {
		env, a, st, pay := newRefundEnv(t, nil)
		pay.refund = payments.Refund{ID: "re_p", Status: payments.RefundPending, Amount: 1000}
		v, err := env.ExecuteActivity(a.RefundOrder, in)
		require.NoError(t, err)
		var res RefundResult
		require.NoError(t, v.Get(&res))
		assert.Equal(t, models.RefundPending, res.Refund.Status, "pending is not reported as succeeded")
		assert.Equal(t, "re_p", st.refunds[in.Key].StripeRefundID)
		assert.Equal(t, int64(1000), st.order.RefundedMinor)

		pay.refund.Status = payments.RefundSucceeded
		v, err = env.ExecuteActivity(a.RefundOrder, in)
		require.NoError(t, err)
		require.NoError(t, v.Get(&res))
		assert.Equal(t, models.RefundSucceeded, res.Refund.Status)
		assert.Equal(t, []string{"Refund:pi_1", "Refund:pi_1"}, pay.calls, "the retry asks Stripe, which adopts its refund")
		assert.Equal(t, []int32{1, 1}, pay.attempts)
	})

	t.Run("a refund Stripe failed releases its amount", func(t *testing.T) {
		env, a, st, pay := newRefundEnv(t, nil)
		pay.refund = payments.Refund{ID: "re_f", Status: payments.RefundFailed, Amount: 1000, FailureReason: "lost_or_stolen_card"}
		_, err := env.ExecuteActivity(a.RefundOrder, in)
		assertKind(t, err, models.KindConflict, CodeRefundFailed)
		assert.Equal(t, models.RefundFailed, st.refunds[in.Key].Status)
		assert.Equal(t, "re_f", st.refunds[in.Key].StripeRefundID)
		assert.Equal(t, int64(0), st.order.RefundedMinor)
	})

	t.Run("Stripe down keeps the reservation for the retry", func(t *testing.T) {
		env, a, st, _ := newRefundEnv(t, models.Errorf(models.KindUnavailable, "stripe_unavailable", "503"))
		_, err := env.ExecuteActivity(a.RefundOrder, in)
		assertKind(t, err, models.KindUnavailable, "stripe_unavailable")
		assert.Equal(t, models.RefundPending, st.refunds[in.Key].Status)
		assert.Empty(t, st.finished)
	})
}

func TestRefundStepCarriesNoClientText(t *testing.T) {
	assert.Equal(t, "cancel", RefundStep(RefundKeyCancel))
	step := RefundStep("buyer ada@example.com asked")
	assert.True(t, strings.HasPrefix(step, "merchant:"))
	assert.NotContains(t, step, "ada")
	assert.Equal(t, step, RefundStep("buyer ada@example.com asked"), "stable per key")
}
