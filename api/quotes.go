package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// quoteRequest is the body of POST /v1/quotes. Only the address's country,
// region and postal code price the order; a signed-in buyer who sends no
// address is quoted for their saved one.
type quoteRequest struct {
	ProductID       string            `json:"product_id"`
	VariantID       string            `json:"variant_id,omitempty"`
	Options         map[string]string `json:"options,omitempty"`
	Quantity        int               `json:"quantity"`
	ShippingAddress *models.Address   `json:"shipping_address,omitempty"`
	ShippingRate    string            `json:"shipping_rate,omitempty"`
}

func (a *app) createQuote(c *gin.Context, cat Catalogue) {
	ctx := c.Request.Context()
	var req quoteRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if !models.ValidID(req.ProductID) {
		writeError(c, models.Invalid("invalid_product_id", "product_id is not a valid id"))
		return
	}
	buyer := a.optionalBuyer(c).ID
	var dest models.Destination
	switch {
	case req.ShippingAddress != nil:
		dest = models.DestinationOf(*req.ShippingAddress)
	case buyer != "":
		p, err := a.profiles().Profile(ctx, buyer)
		if errors.Is(err, models.ErrNotFound) {
			err = asUnprocessable(models.Invalid(codeProfileRequired, "no saved address: send shipping_address"))
		}
		if err != nil {
			writeError(c, err)
			return
		}
		dest = models.DestinationOf(p.Shipping)
	default:
		writeError(c, models.Invalid("invalid_address", "shipping_address.country is required"))
		return
	}
	dest.Normalize()
	q, err := a.quote(ctx, cat, buyer, models.OrderRequest{
		ProductID: req.ProductID, Choice: models.VariantChoice{VariantID: req.VariantID, Options: req.Options},
		Quantity: req.Quantity, Destination: dest, RateID: req.ShippingRate,
	})
	if err != nil {
		writeError(c, pricingError(err))
		return
	}
	c.JSON(http.StatusCreated, q)
}

// quote prices req now and stores the offer for buyer ("" : anyone).
func (a *app) quote(ctx context.Context, cat Catalogue, buyer string, req models.OrderRequest) (models.Quote, error) {
	priced, err := cat.PriceOrder(ctx, req, a.cfg.Tax)
	if err != nil {
		return models.Quote{}, err
	}
	return cat.CreateQuote(ctx, models.Quote{
		BuyerID: buyer, ProductID: priced.Product.ID, VariantID: priced.Variant.ID, Quantity: req.Quantity,
		Pricing: priced.Pricing, Rates: priced.Rates, DestinationFingerprint: req.Destination.Fingerprint(),
	})
}

// pricingError gives the refusals of an understood request that cannot be
// priced their 422: nowhere to ship, a rate not offered there.
func pricingError(err error) error {
	var e *models.Error
	if errors.As(err, &e) && e.Kind == models.KindInvalid &&
		(e.Code == models.CodeShippingUnavailable || e.Code == "unknown_shipping_rate") {
		return asUnprocessable(e)
	}
	return err
}

// quoteExpired refuses a purchase whose quote lapsed or no longer matches
// the price, shipping or tax: it carries the quote the buyer should see.
type quoteExpired struct {
	quote models.Quote
	why   string
}

func (e *quoteExpired) Error() string { return models.CodeQuoteExpired + ": " + e.why }

// writeQuoteExpired answers 409 quote_expired with the new quote.
func writeQuoteExpired(c *gin.Context, e *quoteExpired) {
	c.JSON(http.StatusConflict, gin.H{
		"error": errorBody{Code: models.CodeQuoteExpired, Message: e.why},
		"quote": e.quote,
	})
}

// priceBeforePaying prices a purchase before its workflow starts, so that
// a destination outside every zone, an unknown, foreign or inactive variant
// and a stale quote are refused with nothing reserved. It pins the variant
// and the rate into in, so the workflow's validation prices the same thing
// and can only disagree if the catalogue changed in between. A retry of a
// purchase whose order exists is not priced again: its answer must not
// change. product is the ordered product as just read; orderMayExist is
// false when this request has just claimed the purchase's key. The pricing
// is zero when nothing was priced.
func (a *app) priceBeforePaying(ctx context.Context, in *workflows.PurchaseInput, req purchaseRequest,
	product models.ProductDetail, orderMayExist bool) (models.Pricing, error) {
	cat := a.catalogue()
	in.VariantID, in.ShippingRate, in.QuoteID = req.VariantID, req.ShippingRate, req.QuoteID
	if cat == nil {
		return models.Pricing{}, nil
	}
	if orderMayExist {
		if _, err := a.cfg.Store.Order(ctx, in.OrderID); err == nil {
			return models.Pricing{}, nil
		}
	}
	dest := models.DestinationOf(in.Shipping)
	var q models.Quote
	if req.QuoteID != "" {
		var err error
		if q, err = cat.Quote(ctx, req.QuoteID); err != nil {
			if errors.Is(err, models.ErrNotFound) {
				err = models.Errorf(models.KindNotFound, models.CodeQuoteNotFound, "no such quote")
			}
			return models.Pricing{}, err
		}
		if in.ShippingRate == "" {
			in.ShippingRate = q.Shipping.RateID
		}
		if req.VariantID == "" && len(req.Options) == 0 {
			req.VariantID = q.VariantID
		}
	}
	orderReq := models.OrderRequest{
		ProductID: in.ProductID, Choice: models.VariantChoice{VariantID: req.VariantID, Options: req.Options},
		Quantity: in.Quantity, Destination: dest, RateID: in.ShippingRate,
	}
	priced, err := cat.PriceOrderOf(ctx, product, orderReq, a.cfg.Tax)
	if err != nil {
		return models.Pricing{}, pricingError(err)
	}
	in.VariantID, in.ShippingRate = priced.Variant.ID, priced.Pricing.Shipping.RateID
	if req.QuoteID == "" {
		return priced.Pricing, nil
	}
	if err := q.CheckQuoteUse(in.BuyerID, in.OrderID, in.ProductID, priced.Variant.ID, in.Quantity, dest); err != nil {
		return models.Pricing{}, err
	}
	why := ""
	switch {
	case q.Expired(time.Now()):
		why = "the quote expired; here is a new one"
	case !q.Pricing.SameMoney(priced.Pricing):
		why = "the price, shipping or tax changed since the quote; here is a new one"
	}
	if why != "" {
		nq, err := cat.CreateQuote(ctx, models.Quote{
			BuyerID: in.BuyerID, ProductID: in.ProductID, VariantID: priced.Variant.ID, Quantity: in.Quantity,
			Pricing: priced.Pricing, Rates: priced.Rates, DestinationFingerprint: dest.Fingerprint(),
		})
		if err != nil {
			return models.Pricing{}, err
		}
		return models.Pricing{}, &quoteExpired{quote: nq, why: why}
	}
	if err := cat.ClaimQuote(ctx, q.ID, in.OrderID); err != nil {
		return models.Pricing{}, err
	}
	return priced.Pricing, nil
}

// requote answers a purchase the workflow refused because its quote's money
// changed between the API's check and validation: 409 with a new quote.
func (a *app) requote(c *gin.Context, in workflows.PurchaseInput) {
	ctx := c.Request.Context()
	cat := a.catalogue()
	q, err := a.quote(ctx, cat, in.BuyerID, models.OrderRequest{
		ProductID: in.ProductID, Choice: models.VariantChoice{VariantID: in.VariantID}, Quantity: in.Quantity,
		Destination: models.DestinationOf(in.Shipping), RateID: in.ShippingRate,
	})
	if err != nil {
		writeError(c, pricingError(err))
		return
	}
	writeQuoteExpired(c, &quoteExpired{quote: q, why: "the price, shipping or tax changed since the quote; here is a new one"})
}
