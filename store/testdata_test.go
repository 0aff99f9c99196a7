package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/stretchr/testify/require"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newMerchant(t *testing.T, s *store.Store) models.Merchant {
	t.Helper()
	m, _, err := s.CreateMerchant(ctxT(t), "Shop", "https://shop.example/webhooks")
	require.NoError(t, err)
	return m
}

func newProduct(t *testing.T, s *store.Store, merchantID string, stock int) models.Product {
	t.Helper()
	p, err := s.CreateProduct(ctxT(t), merchantID, models.NewProduct{
		Title: "Mug", Description: "Blue", Price: 1250, Currency: "usd", Stock: stock, MaxPerOrder: 3,
	})
	require.NoError(t, err)
	return p
}

var orderSeq atomic.Int64

// newOrder stores a pending order for a fresh merchant and product.
func newOrder(t *testing.T, s *store.Store) models.Order {
	t.Helper()
	m := newMerchant(t, s)
	p := newProduct(t, s, m.ID, 5)
	o, err := s.CreateOrder(ctxT(t), orderFor(m.ID, p, "buyer_1"))
	require.NoError(t, err)
	return o
}

func orderFor(merchantID string, p models.Product, buyerID string) models.Order {
	return models.Order{
		ID:             fmt.Sprintf("ord_test%04d", orderSeq.Add(1)),
		BuyerID:        buyerID,
		MerchantID:     merchantID,
		ProductID:      p.ID,
		ProductTitle:   p.Title,
		Quantity:       2,
		UnitPriceMinor: p.PriceMinor,
		AmountMinor:    2 * p.PriceMinor,
		Currency:       p.Currency,
		Shipping: models.Address{
			Name: "Ada Lovelace", Line1: "1 Analytical St", City: "London", PostalCode: "N1 9GU", Country: "GB",
		},
	}
}

func requireKind(t *testing.T, err error, kind models.Kind, code string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind, models.ErrorKind(err), "error %v", err)
	if code != "" {
		var e *models.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, code, e.Code)
	}
}
