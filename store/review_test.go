package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// A buyer id may be as long as any valid id (64 characters); the API scopes
// its idempotency keys by models.BuyerActor, which is longer. Postgres
// enforces column sizes where SQLite does not, so this runs on both.
func TestClaimIdempotencyKeyLongestBuyerScope(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		buyer := "b" + strings.Repeat("x", 63)
		require.True(t, models.ValidID(buyer))
		scope := models.BuyerActor(buyer)
		key := strings.Repeat("k", 255)
		rec, created, err := s.ClaimIdempotencyKey(ctx, scope, key, "hash", "ord_long")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, scope, rec.Scope)

		again, created, err := s.ClaimIdempotencyKey(ctx, scope, key, "hash", "ord_other")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, "ord_long", again.OrderID)
	})
}

// The Stripe webhook looks orders up by PaymentIntent; without an index that
// is a scan of every order on each dispute event.
func TestOrdersIndexedByPaymentIntent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		require.True(t, s.DB().Migrator().HasIndex("orders", "idx_orders_payment_intent"))
	})
}
