package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func redactFlag(t *testing.T, s *store.Store, orderID string) bool {
	t.Helper()
	var flag bool
	require.NoError(t, s.DB().Raw("SELECT redact_shipping FROM orders WHERE id = ?", orderID).Scan(&flag).Error)
	return flag
}

// A one-tap purchase reads the profile, the buyer erases it, then the
// workflow writes the order: the order ships to the address but loses it
// when it ends, like any order open at erasure.
func TestOneTapOrderWrittenAfterErasureDoesNotKeepTheAddress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		const buyer = "buyer_race"
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 5)
		o := orderFor(m.ID, p, buyer)
		_, err := s.SaveProfile(ctx, testProfile(buyer, "ord_first"))
		require.NoError(t, err)

		prof, err := s.ProfileForPurchase(ctx, buyer, o.ID)
		require.NoError(t, err)
		_, err = s.EraseProfile(ctx, buyer)
		require.NoError(t, err)
		o.Shipping = prof.Shipping
		_, err = s.CreateOrder(ctx, o)
		require.NoError(t, err)
		require.True(t, redactFlag(t, s, o.ID), "order written after the erasure is flagged")

		for _, to := range []models.OrderStatus{models.StatusAuthorized, models.StatusCancelled} {
			_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: to, Actor: "system"})
			require.NoError(t, err)
		}
		got, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, models.Address{}, got.Shipping)

		// After the erasure there is nothing to read.
		_, err = s.ProfileForPurchase(ctx, buyer, "ord_after")
		requireKind(t, err, models.KindNotFound, "")
	})
}

// Purchases and erasures at the same time, many times over: whatever the
// interleaving, an order that took the profile's address ends up flagged.
func TestOneTapAndErasureRacing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 100)
		for i := range 20 {
			buyer := fmt.Sprintf("buyer_race_%d", i)
			_, err := s.SaveProfile(ctx, testProfile(buyer, fmt.Sprintf("ord_seed_%d", i)))
			require.NoError(t, err)
			o := orderFor(m.ID, p, buyer)
			var wg sync.WaitGroup
			var created bool
			var perr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				prof, err := s.ProfileForPurchase(ctx, buyer, o.ID)
				if err != nil {
					perr = err
					return
				}
				o.Shipping = prof.Shipping
				_, perr = s.CreateOrder(ctx, o)
				created = perr == nil
			}()
			go func() {
				defer wg.Done()
				_, err := s.EraseProfile(ctx, buyer)
				require.NoError(t, err)
			}()
			wg.Wait()
			if !created {
				requireKind(t, perr, models.KindNotFound, "")
				continue
			}
			require.True(t, redactFlag(t, s, o.ID), "iteration %d: order keeps the erased address", i)
		}
	})
}
