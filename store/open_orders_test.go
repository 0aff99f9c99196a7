package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// A buyer may have at most the cap of orders waiting for payment; paid or
// ended orders do not count, other buyers are not affected, and creating an
// order that exists (a retried validation) is never refused.
func TestCreateOpenOrderCapsUnpaidOrdersPerBuyer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 50)

		first, err := s.CreateOpenOrder(ctx, orderFor(m.ID, p, "buyer_cap"), 2)
		require.NoError(t, err)
		second, err := s.CreateOpenOrder(ctx, orderFor(m.ID, p, "buyer_cap"), 2)
		require.NoError(t, err)
		_, err = s.CreateOpenOrder(ctx, orderFor(m.ID, p, "buyer_cap"), 2)
		requireKind(t, err, models.KindConflict, store.CodeTooManyOpenOrders)

		_, err = s.CreateOpenOrder(ctx, second, 2)
		require.NoError(t, err, "an existing order is not a new one")
		_, err = s.CreateOpenOrder(ctx, orderFor(m.ID, p, "buyer_other"), 2)
		require.NoError(t, err, "another buyer is not capped")

		_, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: first.ID, To: models.StatusAuthorized, Actor: models.ActorSystem})
		require.NoError(t, err)
		_, err = s.CreateOpenOrder(ctx, orderFor(m.ID, p, "buyer_cap"), 2)
		require.NoError(t, err, "an authorized order no longer counts")
	})
}

// Concurrent purchases of one buyer cannot all pass the cap.
func TestCreateOpenOrderCapHoldsUnderConcurrency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 50)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			o := orderFor(m.ID, p, "buyer_race")
			wg.Go(func() { _, errs[i] = s.CreateOpenOrder(ctx, o, 3) })
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			if err == nil {
				created++
			} else {
				requireKind(t, err, models.KindConflict, store.CodeTooManyOpenOrders)
			}
		}
		require.Equal(t, 3, created)
	})
}
