package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func newShirt(t *testing.T, s *store.Store, merchantID string, stock int) models.ProductDetail {
	t.Helper()
	np := models.NewCatalogueProduct{
		NewProduct: models.NewProduct{Title: "Shirt", Price: 2500, Currency: "eur"},
		Options:    []models.Option{{Name: "size", Values: []string{"S", "M"}}, {Name: "colour", Values: []string{"red"}}},
		Variants: []models.NewVariant{
			{SKU: "S-RED", Options: map[string]string{"size": "S", "colour": "red"}, Stock: stock},
			{SKU: "M-RED", Options: map[string]string{"size": "M", "colour": "red"}, Price: 2700, Stock: stock},
		},
		Images: []string{"https://cdn.example/shirt.jpg"},
	}
	require.NoError(t, np.Validate())
	d, err := s.CreateCatalogueProduct(ctxT(t), merchantID, np)
	require.NoError(t, err)
	return d
}

// variantOrder stores a pending order for one variant, as ValidateOrder does.
func variantOrder(t *testing.T, s *store.Store, merchantID string, p models.Product, v models.Variant, buyer string) models.Order {
	t.Helper()
	o := orderFor(merchantID, p, buyer)
	o.OrderPricing = models.OrderPricing{VariantID: v.ID, Lines: []models.OrderLine{{VariantID: v.ID, UnitPrice: v.PriceMinor, Quantity: 1, Amount: v.PriceMinor}}}
	got, err := s.CreateOrder(ctxT(t), o)
	require.NoError(t, err)
	return got
}

// The flash sale, per variant: 2 variants of 3 each, 20 buyers on each at
// once; exactly 3 + 3 get one.
func TestFlashSalePerVariant(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		d := newShirt(t, s, m.ID, 3)
		const buyersPerVariant = 20
		var orders []models.Order
		for vi, v := range d.Variants {
			for i := range buyersPerVariant {
				orders = append(orders, variantOrder(t, s, m.ID, d.Product, v, fmt.Sprintf("buyer_%d_%d", vi, i)))
			}
		}
		errs := make([]error, len(orders))
		var wg sync.WaitGroup
		for i, o := range orders {
			wg.Go(func() { errs[i] = s.ReserveStock(ctx, o.ID, o.ProductID, 1) })
		}
		wg.Wait()
		won := map[string]int{}
		for i, err := range errs {
			switch {
			case err == nil:
				won[orders[i].VariantID]++
			case models.ErrorKind(err) == models.KindSoldOut:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		require.Equal(t, map[string]int{d.Variants[0].ID: 3, d.Variants[1].ID: 3}, won)
		after, err := s.ProductDetail(ctx, d.ID)
		require.NoError(t, err)
		for _, v := range after.Variants {
			require.Zero(t, v.Stock, v.ID)
		}

		// A release gives the units back to the variant they came from.
		for i, o := range orders {
			if errs[i] == nil && o.VariantID == d.Variants[1].ID {
				require.NoError(t, s.ReleaseStock(ctx, o.ID))
				break
			}
		}
		after, err = s.ProductDetail(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, []int{0, 1}, []int{after.Variants[0].Stock, after.Variants[1].Stock})
		require.Equal(t, 1, after.Stock)
	})
}

// Restocking while buyers take the last units loses no unit: 10 restocks
// of 1 and 10 purchases of 1 from a stock of 5 leave 5.
func TestRestockIsAnIncrementThatRacesNoPurchase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		d := newShirt(t, s, m.ID, 5)
		v := d.Variants[0]
		var orders []models.Order
		for i := range 10 {
			orders = append(orders, variantOrder(t, s, m.ID, d.Product, v, fmt.Sprintf("buyer_%d", i)))
		}
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range 10 {
			wg.Go(func() { errs[i] = s.ReserveStock(ctx, orders[i].ID, d.ID, 1) })
			wg.Go(func() { _, errs[10+i] = s.Restock(ctx, m.ID, d.ID, v.ID, 1) })
		}
		wg.Wait()
		taken := 0
		for i, err := range errs {
			if i >= 10 {
				require.NoError(t, err)
			} else if err == nil {
				taken++
			} else {
				require.Equal(t, models.KindSoldOut, models.ErrorKind(err))
			}
		}
		got, err := s.Variant(ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, 5+10-taken, got.Stock)

		other := newMerchant(t, s)
		_, err = s.Restock(ctx, other.ID, d.ID, v.ID, 1)
		requireKind(t, err, models.KindNotFound, "")
		_, err = s.Restock(ctx, m.ID, d.ID, v.ID, -1)
		requireKind(t, err, models.KindInvalid, "invalid_restock")
	})
}

func TestVariantsAndImagesRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		d := newShirt(t, s, m.ID, 2)
		require.Len(t, d.Variants, 2)
		require.Equal(t, "S-RED", d.Variants[0].SKU)
		require.Equal(t, int64(2700), d.Variants[1].PriceMinor)
		require.Equal(t, []string{"https://cdn.example/shirt.jpg"}, d.Images)
		require.Equal(t, 4, d.Stock)

		off := false
		v, err := s.UpdateVariant(ctx, m.ID, d.ID, d.Variants[1].ID, models.VariantUpdate{Active: &off})
		require.NoError(t, err)
		require.False(t, v.Active)
		p, err := s.Product(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, 2, p.Stock, "an inactive variant's stock is not for sale")

		images := []string{"https://cdn.example/b.jpg", "https://cdn.example/c.jpg"}
		title := "Tee"
		got, err := s.UpdateProduct(ctx, m.ID, d.ID, models.ProductUpdate{Title: &title, Images: &images})
		require.NoError(t, err)
		require.Equal(t, images, got.Images)
		require.Equal(t, "Tee", got.Title)
		require.Len(t, got.Options, 2, "options survive an images update")

		_, err = s.AddVariant(ctx, m.ID, d.ID, models.NewVariant{SKU: "X", Options: map[string]string{"size": "S", "colour": "red"}})
		requireKind(t, err, models.KindInvalid, "duplicate_variant")
		_, err = s.UpdateProduct(ctx, newMerchant(t, s).ID, d.ID, models.ProductUpdate{Title: &title})
		requireKind(t, err, models.KindNotFound, "")
	})
}

// Products made before variants existed, with stock and a reservation that
// is still held, migrate to a default variant once when the database is
// adopted: re-running the migration changes nothing, and the old reservation's release goes back to
// the default variant.
func TestMigrationMovesStockToADefaultVariantOnce(t *testing.T) {
	urls := map[string]func(t *testing.T) (string, gorm.Dialector){
		storetest.Postgres: func(t *testing.T) (string, gorm.Dialector) {
			u := storetest.NewPostgresDatabase(t)
			return u, postgres.Open(u)
		},
		storetest.SQLite: func(t *testing.T) (string, gorm.Dialector) {
			path := filepath.Join(t.TempDir(), "legacy.db")
			return "sqlite://" + path, sqlite.Open(path + "?_pragma=busy_timeout(5000)")
		},
	}
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := ctxT(t)
			url, dialector := urls[backend](t)
			s, err := store.Open(ctx, url, storetest.Ring(t))
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			require.NoError(t, store.AutoMigrateLegacy(ctx, s), "the tables as the previous release made them")
			m := newMerchant(t, s)
			raw, err := gorm.Open(dialector, &gorm.Config{})
			require.NoError(t, err)
			t.Cleanup(func() {
				if db, err := raw.DB(); err == nil {
					_ = db.Close()
				}
			})
			now := time.Now().UTC()
			// The rows as the previous release wrote them: stock on the
			// product, no variant, a reservation without one.
			require.NoError(t, raw.Exec(`INSERT INTO products (id, merchant_id, title, description, price_minor, currency, stock, max_per_order, active, created_at, updated_at)
				VALUES ('prod_legacy', ?, 'Mug', '', 1200, 'usd', 7, 0, true, ?, ?)`, m.ID, now, now).Error)
			require.NoError(t, raw.Exec(`INSERT INTO stock_reservations (order_id, product_id, quantity, released, created_at, updated_at)
				VALUES ('ord_legacy', 'prod_legacy', 2, false, ?, ?)`, now, now).Error)

			for range 3 {
				require.NoError(t, s.Migrate(ctx))
			}
			d, err := s.ProductDetail(ctx, "prod_legacy")
			require.NoError(t, err)
			require.Len(t, d.Variants, 1)
			require.Equal(t, "var_legacy", d.Variants[0].ID)
			require.Equal(t, 7, d.Variants[0].Stock)
			require.Equal(t, int64(1200), d.Variants[0].PriceMinor)
			require.Empty(t, d.Variants[0].Options)
			var productStock int64
			require.NoError(t, raw.Raw("SELECT stock FROM products WHERE id = 'prod_legacy'").Scan(&productStock).Error)
			require.Zero(t, productStock, "the stock lives in one place")

			require.NoError(t, s.ReleaseStock(ctx, "ord_legacy"))
			require.NoError(t, s.ReserveStock(ctx, "ord_new", "prod_legacy", 9), "an order without a variant takes the default one")
			d, err = s.ProductDetail(ctx, "prod_legacy")
			require.NoError(t, err)
			require.Zero(t, d.Variants[0].Stock)
			require.NoError(t, s.Migrate(ctx))
			d, err = s.ProductDetail(ctx, "prod_legacy")
			require.NoError(t, err)
			require.Zero(t, d.Variants[0].Stock, "a re-run adds nothing")
		})
	}
}

// Adding the same combination from several requests at once makes one
// variant: the others are duplicate_variant.
func TestAddVariantConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		np := models.NewCatalogueProduct{
			NewProduct: models.NewProduct{Title: "Cap", Price: 1500, Currency: "usd"},
			Options:    []models.Option{{Name: "size", Values: []string{"S", "M"}}},
			Variants:   []models.NewVariant{{SKU: "CAP-S", Options: map[string]string{"size": "S"}, Stock: 1}},
		}
		require.NoError(t, np.Validate())
		d, err := s.CreateCatalogueProduct(ctx, m.ID, np)
		require.NoError(t, err)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.AddVariant(ctx, m.ID, d.ID, models.NewVariant{SKU: fmt.Sprintf("CAP-M-%d", i),
					Options: map[string]string{"size": "M"}})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireKind(t, err, models.KindInvalid, "duplicate_variant")
			}
		}
		require.Equal(t, 1, ok)
		after, err := s.ProductDetail(ctx, d.ID)
		require.NoError(t, err)
		require.Len(t, after.Variants, 2)
	})
}
