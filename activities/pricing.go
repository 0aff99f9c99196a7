package activities

import (
	"context"

	"github.com/buybutton/checkout/models"
)

// Prices reads products with their variants, prices purchases of them
// against the catalogue and reads quotes; *store.Store satisfies it.
type Prices interface {
	ProductDetail(ctx context.Context, id string) (models.ProductDetail, error)
	PriceOrderOf(ctx context.Context, d models.ProductDetail, req models.OrderRequest, tax models.TaxCalculator) (models.PricedOrder, error)
	Quote(ctx context.Context, id string) (models.Quote, error)
}

func (a *Activities) prices() Prices {
	if a.Pricing != nil {
		return a.Pricing
	}
	p, _ := a.Store.(Prices)
	return p
}

// priceOrder prices a validated purchase as the catalogue, shipping policy
// and tax are now. A purchase that names a quote must cost what the quote
// said, or it is refused (quote_expired) before anything is reserved: the
// buyer is never charged a total they did not see.
func (a *Activities) priceOrder(ctx context.Context, d models.ProductDetail, in ValidateInput, addr models.Address) (models.PricedOrder, error) {
	priced, err := a.prices().PriceOrderOf(ctx, d, models.OrderRequest{
		ProductID: in.ProductID, Choice: models.VariantChoice{VariantID: in.VariantID}, Quantity: in.Quantity,
		Destination: models.DestinationOf(addr), RateID: in.ShippingRate,
	}, a.Tax)
	if err != nil || in.QuoteID == "" {
		return priced, err
	}
	q, err := a.prices().Quote(ctx, in.QuoteID)
	if err != nil {
		return priced, err
	}
	if !q.Pricing.SameMoney(priced.Pricing) {
		return priced, models.Conflict(models.CodeQuoteExpired, "the price, shipping or tax changed since the quote; ask for a new one")
	}
	return priced, nil
}
