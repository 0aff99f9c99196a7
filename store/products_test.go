package store_test

import (
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestProducts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		other := newMerchant(t, s)

		p, err := s.CreateProduct(ctx, m.ID, models.NewProduct{
			Title: "Mug", Description: "Blue", Price: 99_999_999, Currency: "eur", Stock: 7, MaxPerOrder: 2,
		})
		require.NoError(t, err)
		require.True(t, models.ValidID(p.ID), p.ID)
		require.Equal(t, models.Product{
			ID: p.ID, MerchantID: m.ID, Title: "Mug", Description: "Blue", PriceMinor: 99_999_999, Currency: "eur",
			Stock: 7, MaxPerOrder: 2, Active: true, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		}, p)
		require.False(t, p.CreatedAt.IsZero())

		got, err := s.Product(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)

		p2 := newProduct(t, s, m.ID, 1)
		newProduct(t, s, other.ID, 1)
		list, err := s.ListProducts(ctx, m.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.ElementsMatch(t, []string{p.ID, p2.ID}, []string{list[0].ID, list[1].ID})
		require.False(t, list[0].CreatedAt.Before(list[1].CreatedAt), "newest first")

		require.NoError(t, s.SetProductActive(ctx, m.ID, p.ID, false))
		got, err = s.Product(ctx, p.ID)
		require.NoError(t, err)
		require.False(t, got.Active)
		require.NoError(t, s.SetProductActive(ctx, m.ID, p.ID, false), "setting the same value again is fine")
		require.NoError(t, s.SetProductActive(ctx, m.ID, p.ID, true))
		got, err = s.Product(ctx, p.ID)
		require.NoError(t, err)
		require.True(t, got.Active)

		requireKind(t, s.SetProductActive(ctx, other.ID, p.ID, false), models.KindNotFound, "not_found")
		got, err = s.Product(ctx, p.ID)
		require.NoError(t, err)
		require.True(t, got.Active, "another merchant cannot change it")

		_, err = s.Product(ctx, "prod_missing")
		requireKind(t, err, models.KindNotFound, "not_found")
		empty, err := s.ListProducts(ctx, "mer_none")
		require.NoError(t, err)
		require.Empty(t, empty)
	})
}
