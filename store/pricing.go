package store

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/models"
)

// PriceOrder prices a purchase against the catalogue and the merchant's
// shipping policy as they are now, and tax from tax (nil: the merchant's
// tax table, TaxTables). It refuses an inactive product, and a variant that
// is unknown, of another product or inactive.
func (s *Store) PriceOrder(ctx context.Context, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error) {
	d, err := s.ProductDetail(ctx, req.ProductID)
	if err != nil {
		return models.PricedOrder{}, err
	}
	return s.PriceOrderOf(ctx, d, req, tax)
}

// PriceOrderOf is PriceOrder of a product the caller has just read
// (ProductDetail of req.ProductID): it reads only the merchant's policies,
// shipping and tax in one row.
func (s *Store) PriceOrderOf(ctx context.Context, d models.ProductDetail, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error) {
	if d.ID != req.ProductID {
		return models.PricedOrder{}, models.Errorf(models.KindInternal, "product_mismatch", "priced product %s for an order of %s", d.ID, req.ProductID)
	}
	if !d.Active {
		return models.PricedOrder{}, models.Conflict("product_unavailable", "product is not available")
	}
	v, err := d.SelectVariant(req.Choice)
	if err != nil {
		var e *models.Error
		if errors.As(err, &e) && e.Code == "unknown_variant" {
			if other, oerr := s.Variant(ctx, req.Choice.VariantID); oerr == nil && other.ProductID != d.ID {
				return models.PricedOrder{}, models.Invalid(models.CodeVariantOfOther, "variant_id is a variant of another product")
			}
		}
		return models.PricedOrder{}, err
	}
	row, err := s.policyRow(ctx, d.MerchantID)
	if err != nil {
		return models.PricedOrder{}, err
	}
	policy, err := row.shippingPolicy()
	if err != nil {
		return models.PricedOrder{}, err
	}
	if tax == nil {
		table, err := row.taxTable()
		if err != nil {
			return models.PricedOrder{}, err
		}
		tax = table
	}
	pricing, rates, err := models.Price(ctx, models.PriceInput{
		Product: d.Product, Variant: v, Quantity: req.Quantity, Destination: req.Destination,
		RateID: req.RateID, Shipping: policy, Tax: tax,
	})
	if err != nil {
		return models.PricedOrder{}, err
	}
	return models.PricedOrder{Product: d, Variant: v, Pricing: pricing, Rates: rates}, nil
}

// TaxTables computes tax from each merchant's stored tax table: the table
// implementation of models.TaxCalculator.
type TaxTables struct{ Store *Store }

// CalculateTax applies the merchant's table.
func (t TaxTables) CalculateTax(ctx context.Context, in models.TaxInput) (models.TaxResult, error) {
	table, err := t.Store.TaxTable(ctx, in.MerchantID)
	if err != nil {
		return models.TaxResult{}, err
	}
	return table.CalculateTax(ctx, in)
}
