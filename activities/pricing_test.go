package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

// The order snapshots the pricing: 3 × 12.50 with FR VAT 20 % added on top
// (7.50), total 45.00, which is what the payment authorizes.
func TestValidateOrderSnapshotsThePricing(t *testing.T) {
	env, a, d := newEnv(t)
	d.store.tax = models.TaxTable{Rates: []models.TaxRate{{Country: "FR", Name: "VAT", RateBps: 2000}}}
	v, err := env.ExecuteActivity(a.ValidateOrder, validInput())
	require.NoError(t, err)
	var o models.Order
	require.NoError(t, v.Get(&o))
	assert.Equal(t, int64(4500), o.AmountMinor)
	assert.Equal(t, int64(4500), o.TotalMinor)
	assert.Equal(t, int64(3750), o.SubtotalMinor)
	assert.Equal(t, "var_mug", o.VariantID)
	require.Len(t, o.Lines, 1)
	assert.Equal(t, models.OrderLine{ProductID: "prod_mug", VariantID: "var_mug", Title: "Mug", UnitPrice: 1250, Quantity: 3, Amount: 3750, Tax: 750}, o.Lines[0])
	assert.Equal(t, &models.TaxCharge{Amount: 750, Name: "VAT", RateBps: 2000}, o.Tax)
}

// A quote priced before the tax changed is refused with quote_expired and
// no order row; one that still matches is honoured.
func TestValidateOrderRefusesAQuoteWhoseMoneyChanged(t *testing.T) {
	cases := []struct {
		name     string
		quoteTax int64
		wantCode string
	}{
		{"quote still right", 750, ""},
		{"tax changed since", 700, models.CodeQuoteExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			d.store.tax = models.TaxTable{Rates: []models.TaxRate{{Country: "FR", Name: "VAT", RateBps: 2000}}}
			d.store.quotes["quo_1"] = models.Quote{ID: "quo_1", Pricing: models.Pricing{
				Lines:    []models.OrderLine{{VariantID: "var_mug", UnitPrice: 1250, Quantity: 3, Tax: c.quoteTax}},
				Subtotal: 3750, Shipping: models.ShippingCharge{RateID: models.FreeShippingRateID},
				Tax: models.TaxCharge{Amount: c.quoteTax, Name: "VAT", RateBps: 2000}, Total: 3750 + c.quoteTax, Currency: "usd"}}
			in := validInput()
			in.QuoteID = "quo_1"
			v, err := env.ExecuteActivity(a.ValidateOrder, in)
			if c.wantCode != "" {
				assertKind(t, err, models.KindConflict, c.wantCode)
				assert.Empty(t, d.store.orders, "nothing stored")
				return
			}
			require.NoError(t, err)
			var o models.Order
			require.NoError(t, v.Get(&o))
			assert.Equal(t, "quo_1", o.QuoteID)
			assert.Equal(t, int64(4500), o.AmountMinor)
		})
	}
}
