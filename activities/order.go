package activities

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// ValidateInput is what the buyer asked for, as the workflow received it.
type ValidateInput struct {
	OrderID       string
	BuyerID       string
	ProductID     string
	Quantity      int
	Shipping      models.Address
	PaymentMethod string
	// VariantID, ShippingRate and QuoteID price the order (see priceOrder);
	// empty: the product's only variant, the cheapest rate, no quote.
	VariantID    string `json:",omitempty"`
	ShippingRate string `json:",omitempty"`
	QuoteID      string `json:",omitempty"`
}

// ValidateOrder checks a purchase against the catalogue and creates its order
// row (status pending) with its pricing as it is now: the variant's price,
// shipping and tax, whose total the payment authorizes. A retry, or a replayed
// workflow, finds the row already there and gets it back unchanged, so the
// price snapshot is taken exactly once.
func (a *Activities) ValidateOrder(ctx context.Context, in ValidateInput) (models.Order, error) {
	o, err := a.validateOrder(ctx, in)
	return o, failures.ToTemporal(err)
}

func (a *Activities) validateOrder(ctx context.Context, in ValidateInput) (models.Order, error) {
	if !models.ValidID(in.OrderID) || in.BuyerID == "" || !models.ValidID(in.ProductID) {
		return models.Order{}, models.Invalid("invalid_request", "order, buyer and product ids are required")
	}
	existing, err := a.Store.Order(ctx, in.OrderID)
	switch {
	case err == nil:
		if existing.BuyerID != in.BuyerID || existing.ProductID != in.ProductID || existing.Quantity != in.Quantity {
			return models.Order{}, models.Conflict("order_exists", "order %s exists with other contents", in.OrderID)
		}
		return existing, nil
	case !errors.Is(err, models.ErrNotFound):
		return models.Order{}, err
	}

	// The product with its variants, read once for the checks and the price.
	d, err := a.prices().ProductDetail(ctx, in.ProductID)
	if err != nil {
		return models.Order{}, err
	}
	p := d.Product
	if !p.Active {
		return models.Order{}, models.Invalid("product_inactive", "product is not for sale")
	}
	m, err := a.Store.Merchant(ctx, p.MerchantID)
	if err != nil {
		return models.Order{}, err
	}
	if !m.Active {
		return models.Order{}, models.Invalid("merchant_inactive", "merchant is not selling")
	}
	addr := in.Shipping
	addr.Normalize()
	if err := addr.Validate(); err != nil {
		return models.Order{}, err
	}
	if err := models.CheckPaymentMethod(in.PaymentMethod); err != nil {
		return models.Order{}, err
	}
	priced, err := a.priceOrder(ctx, d, in, addr)
	if err != nil {
		return models.Order{}, err
	}
	return a.Store.CreateOpenOrder(ctx, models.Order{
		ID:             in.OrderID,
		BuyerID:        in.BuyerID,
		MerchantID:     p.MerchantID,
		ProductID:      p.ID,
		ProductTitle:   p.Title,
		Quantity:       in.Quantity,
		UnitPriceMinor: priced.Variant.PriceMinor,
		AmountMinor:    priced.Pricing.Total,
		Currency:       priced.Pricing.Currency,
		Status:         models.StatusPending,
		Shipping:       addr,
		OrderPricing:   priced.Pricing.ForOrder(priced.Variant.ID, in.QuoteID),
	}, a.MaxOpenUnpaidPerBuyer)
}

// RecordStatus writes one status change and its audit event to the read model.
func (a *Activities) RecordStatus(ctx context.Context, c models.StatusChange) (models.Order, error) {
	o, err := a.Store.ApplyStatusChange(ctx, c)
	return o, failures.ToTemporal(err)
}
