package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func TestMerchantStripeAccountIsOrderSafe(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		_, found, err := s.MerchantStripe(ctx, m.ID)
		require.NoError(t, err)
		require.False(t, found)

		ms, err := s.AttachStripeAccount(ctx, m.ID, models.AccountState{AccountID: "acct_first", RequirementsDue: []string{"external_account"}})
		require.NoError(t, err)
		require.Equal(t, "acct_first", ms.AccountID)
		require.Error(t, models.CheckAcceptsPayments(ms, true))
		// A second account never replaces the first.
		ms, err = s.AttachStripeAccount(ctx, m.ID, models.AccountState{AccountID: "acct_second"})
		require.NoError(t, err)
		require.Equal(t, "acct_first", ms.AccountID)

		on := models.AccountState{AccountID: "acct_first", ChargesEnabled: true, PayoutsEnabled: true, RequirementsDue: []string{}}
		off := models.AccountState{AccountID: "acct_first", RequirementsDue: []string{"external_account", "tos_acceptance.date"}}
		merchantID, applied, err := s.ApplyAccountState(ctx, on, 200)
		require.NoError(t, err)
		require.True(t, applied)
		require.Equal(t, m.ID, merchantID)
		// An event created earlier, arriving late, is not applied.
		_, applied, err = s.ApplyAccountState(ctx, off, 100)
		require.NoError(t, err)
		require.False(t, applied)
		ms, _, err = s.MerchantStripe(ctx, m.ID)
		require.NoError(t, err)
		require.True(t, ms.ChargesEnabled)
		require.NoError(t, models.CheckAcceptsPayments(ms, true))
		// A newer one is.
		_, applied, err = s.ApplyAccountState(ctx, off, 300)
		require.NoError(t, err)
		require.True(t, applied)
		ms, _, err = s.MerchantStripe(ctx, m.ID)
		require.NoError(t, err)
		require.False(t, ms.ChargesEnabled)
		require.Equal(t, []string{"external_account", "tos_acceptance.date"}, ms.RequirementsDue)
		// An account that is no merchant's is ignored.
		merchantID, applied, err = s.ApplyAccountState(ctx, models.AccountState{AccountID: "acct_stranger"}, 400)
		require.NoError(t, err)
		require.False(t, applied)
		require.Empty(t, merchantID)
	})
}

func TestOrderFeeSnapshotOutlivesFeeChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s) // 2500 usd
		platform := models.FeePolicy{BPS: 290, FixedMinor: 30}

		_, err := s.SnapshotOrderFee(ctx, o.ID, o.MerchantID, o.AmountMinor, platform)
		requireKind(t, err, models.KindConflict, models.CodeMerchantCannotAcceptPayments)

		_, err = s.AttachStripeAccount(ctx, o.MerchantID, models.AccountState{AccountID: "acct_" + o.MerchantID, ChargesEnabled: true})
		require.NoError(t, err)
		require.NoError(t, s.SetMerchantFee(ctx, o.MerchantID, &models.FeePolicy{BPS: 100}))
		f, err := s.SnapshotOrderFee(ctx, o.ID, o.MerchantID, o.AmountMinor, platform)
		require.NoError(t, err)
		require.Equal(t, "acct_"+o.MerchantID, f.Destination)
		require.Equal(t, models.FeePolicy{BPS: 100}, f.Policy)
		require.EqualValues(t, 25, f.FeeMinor)

		// The merchant's fee changes, and the account is restricted: the
		// order keeps its snapshot.
		require.NoError(t, s.SetMerchantFee(ctx, o.MerchantID, nil))
		_, _, err = s.ApplyAccountState(ctx, models.AccountState{AccountID: "acct_" + o.MerchantID}, 10)
		require.NoError(t, err)
		again, err := s.SnapshotOrderFee(ctx, o.ID, o.MerchantID, o.AmountMinor, platform)
		require.NoError(t, err)
		require.Equal(t, f, again)

		// Refund splits: the fee comes back in proportion, once per request.
		require.NoError(t, s.DB().Table("orders").Where("id = ?", o.ID).Update("captured_minor", 2500).Error)
		require.NoError(t, s.RecordCapturedFee(ctx, o.ID, f.AtCapture(2500)))
		first, err := s.RecordRefundSplit(ctx, o.ID, "k1", "re_1", 1000, 1000, true)
		require.NoError(t, err)
		require.EqualValues(t, 10, first.FeeReturnedMinor)
		retried, err := s.RecordRefundSplit(ctx, o.ID, "k1", "re_1", 1000, 1000, true)
		require.NoError(t, err)
		require.Equal(t, first, retried)
		rest, err := s.RecordRefundSplit(ctx, o.ID, "k2", "re_2", 1500, 1500, true)
		require.NoError(t, err)
		require.EqualValues(t, 15, rest.FeeReturnedMinor)
		splits, err := s.RefundSplits(ctx, o.ID)
		require.NoError(t, err)
		require.Len(t, splits, 2)

		require.Error(t, s.SetMerchantFee(ctx, o.MerchantID, &models.FeePolicy{BPS: 9000}))
		requireKind(t, s.SetMerchantFee(ctx, "mer_none", nil), models.KindConflict, "merchant_not_onboarded")
	})
}

// Attempts racing to take an order's fee snapshot all answer the one that
// was stored, whichever of them wrote it.
func TestOrderFeeSnapshotTakenOnceUnderConcurrency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		_, err := s.AttachStripeAccount(ctx, o.MerchantID, models.AccountState{AccountID: "acct_" + o.MerchantID, ChargesEnabled: true})
		require.NoError(t, err)
		platform := models.FeePolicy{BPS: 290, FixedMinor: 30}
		got := make([]models.OrderFee, 8)
		errs := make([]error, len(got))
		var wg sync.WaitGroup
		for i := range got {
			wg.Go(func() { got[i], errs[i] = s.SnapshotOrderFee(ctx, o.ID, o.MerchantID, o.AmountMinor, platform) })
		}
		wg.Wait()
		stored, found, err := s.OrderFee(ctx, o.ID)
		require.NoError(t, err)
		require.True(t, found)
		for i := range got {
			require.NoError(t, errs[i])
			require.Equal(t, stored, got[i])
		}
	})
}
