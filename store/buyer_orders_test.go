package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func TestBuyerOrdersPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 10)
		base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		var mine []string
		for i := range 3 {
			in := orderFor(m.ID, p, "buyer_mine")
			in.CreatedAt = base.Add(time.Duration(i) * time.Minute)
			o, err := s.CreateOrder(ctx, in)
			require.NoError(t, err)
			mine = append(mine, o.ID)
		}
		theirs := orderFor(m.ID, p, "buyer_theirs")
		theirs.CreatedAt = base.Add(time.Hour)
		_, err := s.CreateOrder(ctx, theirs)
		require.NoError(t, err)

		first, more, err := s.BuyerOrdersPage(ctx, "buyer_mine", store.OrderPage{Limit: 2})
		require.NoError(t, err)
		require.True(t, more)
		require.Equal(t, []string{mine[2], mine[1]}, ids(first))
		last := first[len(first)-1]
		rest, more, err := s.BuyerOrdersPage(ctx, "buyer_mine", store.OrderPage{Limit: 2, AfterCreatedAt: last.CreatedAt, AfterID: last.ID})
		require.NoError(t, err)
		require.False(t, more)
		require.Equal(t, []string{mine[0]}, ids(rest))

		// The owner filter wins over a merchant id in the page.
		got, _, err := s.BuyerOrdersPage(ctx, "buyer_theirs", store.OrderPage{MerchantID: m.ID})
		require.NoError(t, err)
		require.Equal(t, []string{theirs.ID}, ids(got))

		_, _, err = s.BuyerOrdersPage(ctx, "", store.OrderPage{})
		require.Error(t, err, "a page without a buyer would list everyone's orders")
	})
}

func ids(orders []models.Order) []string {
	out := make([]string, 0, len(orders))
	for _, o := range orders {
		out = append(out, o.ID)
	}
	return out
}
