package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func stockOf(t *testing.T, s *store.Store, productID string) int {
	t.Helper()
	p, err := s.Product(ctxT(t), productID)
	require.NoError(t, err)
	return p.Stock
}

func TestReserveStockConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		p := newProduct(t, s, newMerchant(t, s).ID, 3)

		const buyers = 10
		errs := make([]error, buyers)
		var wg sync.WaitGroup
		for i := range buyers {
			wg.Go(func() { errs[i] = s.ReserveStock(ctx, fmt.Sprintf("ord_race%02d", i), p.ID, 1) })
		}
		wg.Wait()

		var ok, soldOut int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case models.ErrorKind(err) == models.KindSoldOut:
				soldOut++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		require.Equal(t, 3, ok)
		require.Equal(t, 7, soldOut)
		require.Equal(t, 0, stockOf(t, s, p.ID))
	})
}

func TestReserveStockSameOrderConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		p := newProduct(t, s, newMerchant(t, s).ID, 10)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Go(func() { errs[i] = s.ReserveStock(ctx, "ord_same", p.ID, 2) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 8, stockOf(t, s, p.ID))
	})
}

func TestReserveAndReleaseStock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		p := newProduct(t, s, newMerchant(t, s).ID, 5)

		require.NoError(t, s.ReserveStock(ctx, "ord_a", p.ID, 2))
		require.NoError(t, s.ReserveStock(ctx, "ord_a", p.ID, 2), "second reserve for the same order")
		require.Equal(t, 3, stockOf(t, s, p.ID))

		err := s.ReserveStock(ctx, "ord_b", p.ID, 4)
		requireKind(t, err, models.KindSoldOut, "sold_out")
		require.Equal(t, 3, stockOf(t, s, p.ID), "a failed reservation takes nothing")
		require.NoError(t, s.ReserveStock(ctx, "ord_b", p.ID, 3), "a sold-out order may try again")
		require.Equal(t, 0, stockOf(t, s, p.ID))

		require.NoError(t, s.ReleaseStock(ctx, "ord_a"))
		require.NoError(t, s.ReleaseStock(ctx, "ord_a"), "second release")
		require.Equal(t, 2, stockOf(t, s, p.ID))

		require.NoError(t, s.ReleaseStock(ctx, "ord_unknown"))
		require.Equal(t, 2, stockOf(t, s, p.ID))

		// A released order cannot reserve again, and must not be told it holds stock.
		requireKind(t, s.ReserveStock(ctx, "ord_a", p.ID, 2), models.KindConflict, "reservation_released")
		require.Equal(t, 2, stockOf(t, s, p.ID))
	})
}

func TestReleaseStockConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		p := newProduct(t, s, newMerchant(t, s).ID, 5)
		require.NoError(t, s.ReserveStock(ctx, "ord_r", p.ID, 4))
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { require.NoError(t, s.ReleaseStock(ctx, "ord_r")) })
		}
		wg.Wait()
		require.Equal(t, 5, stockOf(t, s, p.ID))
	})
}

func TestReserveStockRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		p := newProduct(t, s, newMerchant(t, s).ID, 5)
		tests := []struct {
			name      string
			productID string
			qty       int
			kind      models.Kind
		}{
			{"zero quantity", p.ID, 0, models.KindInvalid},
			{"negative quantity", p.ID, -1, models.KindInvalid},
			{"unknown product", "prod_missing", 1, models.KindNotFound},
			{"more than stock", p.ID, 6, models.KindSoldOut},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := s.ReserveStock(ctx, fmt.Sprintf("ord_refused%d", i), tc.productID, tc.qty)
				requireKind(t, err, tc.kind, "")
			})
		}
		require.Equal(t, 5, stockOf(t, s, p.ID))
	})
}

func TestReserveStockAgainWithOtherTerms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 5)
		other := newProduct(t, s, m.ID, 5)
		require.NoError(t, s.ReserveStock(ctx, "ord_held", p.ID, 1))

		requireKind(t, s.ReserveStock(ctx, "ord_held", other.ID, 1), models.KindConflict, "reservation_mismatch")
		requireKind(t, s.ReserveStock(ctx, "ord_held", p.ID, 2), models.KindConflict, "reservation_mismatch")
		require.Equal(t, 4, stockOf(t, s, p.ID))
		require.Equal(t, 5, stockOf(t, s, other.ID))
	})
}
