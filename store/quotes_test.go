package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func TestQuotesAndPolicies(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		sp, err := s.ShippingPolicy(ctx, m.ID)
		require.NoError(t, err)
		require.Empty(t, sp.Zones, "no policy: ships everywhere free")

		policy := models.ShippingPolicy{Zones: []models.ShippingZone{{Name: "EU", Countries: []string{"DE"},
			Rates: []models.ShippingRate{{ID: "std", Name: "Standard", Amount: 490, Currency: "eur", MaxDays: 5}}}}}
		require.NoError(t, policy.Validate())
		require.NoError(t, s.SetShippingPolicy(ctx, m.ID, policy))
		table := models.TaxTable{Rates: []models.TaxRate{{Country: "DE", RateBps: 1900, Inclusive: true}}}
		require.NoError(t, s.SetTaxTable(ctx, m.ID, table))
		gotPolicy, err := s.ShippingPolicy(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, policy, gotPolicy, "setting the tax table keeps the zones")
		gotTable, err := s.TaxTable(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, table, gotTable)

		q, err := s.CreateQuote(ctx, models.Quote{BuyerID: "buyer_1", ProductID: "prod_1", VariantID: "var_1", Quantity: 2,
			Pricing:                models.Pricing{Subtotal: 5000, Total: 5490, Currency: "eur", Lines: []models.OrderLine{{VariantID: "var_1", UnitPrice: 2500, Quantity: 2}}},
			Rates:                  []models.RateChoice{{ID: "std", Amount: 490}},
			DestinationFingerprint: models.Destination{Country: "DE"}.Fingerprint()})
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(models.QuoteTTL), q.ExpiresAt, 5*time.Second)
		got, err := s.Quote(ctx, q.ID)
		require.NoError(t, err)
		require.Equal(t, q.Pricing, got.Pricing)
		require.Equal(t, "buyer_1", got.BuyerID)

		require.NoError(t, s.ClaimQuote(ctx, q.ID, "ord_1"))
		require.NoError(t, s.ClaimQuote(ctx, q.ID, "ord_1"), "the same order again")
		requireKind(t, s.ClaimQuote(ctx, q.ID, "ord_2"), models.KindConflict, models.CodeQuoteUsed)
		requireKind(t, s.ClaimQuote(ctx, "quo_missing", "ord_2"), models.KindNotFound, "")
	})
}

// Quotes that lapsed over a day ago go when new ones are made; recent ones stay.
func TestOldQuotesArePurged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		old, err := s.CreateQuote(ctx, models.Quote{ProductID: "prod_1", ExpiresAt: time.Now().Add(-25 * time.Hour)})
		require.NoError(t, err)
		recent, err := s.CreateQuote(ctx, models.Quote{ProductID: "prod_1", ExpiresAt: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
		_, err = s.Quote(ctx, old.ID)
		requireKind(t, err, models.KindNotFound, "")
		_, err = s.Quote(ctx, recent.ID)
		require.NoError(t, err, "a quote expired an hour ago is kept")
	})
}
