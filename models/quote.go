package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAmountMinor bounds every amount the checkout computes (a line, a
// subtotal, a total): far above any real order, far below int64's range, so
// no sum or product of bounded amounts overflows.
const MaxAmountMinor int64 = 999_999_999_999

// QuoteTTL is how long a quote may be paid.
const QuoteTTL = 15 * time.Minute

// Destination is the part of a shipping address that prices an order.
type Destination struct {
	Country    string `json:"country"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
}

// DestinationOf is where an address ships, for pricing.
func DestinationOf(a Address) Destination {
	return Destination{Country: a.Country, Region: a.Region, PostalCode: a.PostalCode}
}

// Normalize trims the fields and upper-cases country and region.
func (d *Destination) Normalize() {
	d.Country = strings.ToUpper(strings.TrimSpace(d.Country))
	d.Region = strings.ToUpper(strings.TrimSpace(d.Region))
	d.PostalCode = strings.TrimSpace(d.PostalCode)
}

// Validate checks the destination's shape.
func (d Destination) Validate() error {
	if !countryCode(d.Country) {
		return Invalid("invalid_address", "shipping_address.country must be a two-letter ISO 3166-1 code")
	}
	if len(d.Region) > 200 || len(d.PostalCode) > 200 || !utf8.ValidString(d.Region) || !utf8.ValidString(d.PostalCode) {
		return Invalid("invalid_address", "shipping_address region and postal_code are at most 200 bytes")
	}
	return nil
}

// Fingerprint identifies the destination without keeping it: a quote
// remembers where it was priced for, not the address.
func (d Destination) Fingerprint() string {
	n := d
	n.Normalize()
	sum := sha256.Sum256([]byte(n.Country + "\x00" + n.Region + "\x00" + strings.ToUpper(n.PostalCode)))
	return hex.EncodeToString(sum[:16])
}

// OrderLine is one line of an order: a variant, its unit price, the
// quantity and the line's tax.
type OrderLine struct {
	ProductID string            `json:"product_id"`
	VariantID string            `json:"variant_id"`
	SKU       string            `json:"sku,omitempty"`
	Title     string            `json:"title"`
	Options   map[string]string `json:"options,omitempty"`
	UnitPrice int64             `json:"unit_price"`
	Quantity  int               `json:"quantity"`
	Amount    int64             `json:"amount"` // unit_price × quantity
	Tax       int64             `json:"tax"`    // in amount when inclusive, on top when not
}

// ShippingCharge is the shipping of an order: the rate chosen and its price.
type ShippingCharge struct {
	RateID  string `json:"rate_id"`
	Name    string `json:"name"`
	Amount  int64  `json:"amount"`
	Tax     int64  `json:"tax"`
	MinDays int    `json:"min_days"`
	MaxDays int    `json:"max_days"`
}

// Pricing is what an order costs: its lines, shipping and tax, and the total
// charged. Total = subtotal + shipping, plus the tax when it is exclusive.
type Pricing struct {
	Lines    []OrderLine    `json:"lines"`
	Subtotal int64          `json:"subtotal"`
	Shipping ShippingCharge `json:"shipping"`
	Tax      TaxCharge      `json:"tax"`
	Total    int64          `json:"total"`
	Currency string         `json:"currency"`
}

// SameMoney reports whether two pricings charge the same: the same variants
// at the same prices, the same shipping and tax, the same total.
func (p Pricing) SameMoney(q Pricing) bool {
	if p.Total != q.Total || p.Currency != q.Currency || p.Subtotal != q.Subtotal ||
		p.Shipping.RateID != q.Shipping.RateID || p.Shipping.Amount != q.Shipping.Amount ||
		p.Tax != q.Tax || len(p.Lines) != len(q.Lines) {
		return false
	}
	for i := range p.Lines {
		a, b := p.Lines[i], q.Lines[i]
		if a.VariantID != b.VariantID || a.UnitPrice != b.UnitPrice || a.Quantity != b.Quantity || a.Tax != b.Tax {
			return false
		}
	}
	return true
}

// OrderPricing is the pricing snapshot an order carries from its
// validation on: the variant, lines, shipping and tax; the order's amount is
// the total.
type OrderPricing struct {
	VariantID      string          `json:"variant_id,omitempty"`
	QuoteID        string          `json:"quote_id,omitempty"`
	Lines          []OrderLine     `json:"lines,omitempty"`
	SubtotalMinor  int64           `json:"subtotal"`
	ShippingCharge *ShippingCharge `json:"shipping,omitempty"`
	Tax            *TaxCharge      `json:"tax,omitempty"`
	TotalMinor     int64           `json:"total"`
}

// ForOrder is the snapshot of p an order keeps.
func (p Pricing) ForOrder(variantID, quoteID string) OrderPricing {
	shipping, tax := p.Shipping, p.Tax
	return OrderPricing{VariantID: variantID, QuoteID: quoteID, Lines: p.Lines, SubtotalMinor: p.Subtotal,
		ShippingCharge: &shipping, Tax: &tax, TotalMinor: p.Total}
}

// PriceInput is everything that prices one order line shipped somewhere.
type PriceInput struct {
	Product     Product
	Variant     Variant
	Quantity    int
	Destination Destination
	RateID      string // "" : the cheapest
	Shipping    ShippingPolicy
	Tax         TaxCalculator
}

// Price computes an order's pricing and the shipping rates offered for it.
// It checks the quantity, the destination and every amount's bounds.
func Price(ctx context.Context, in PriceInput) (Pricing, []RateChoice, error) {
	if err := in.Product.CheckQuantity(in.Quantity); err != nil {
		return Pricing{}, nil, err
	}
	if err := in.Destination.Validate(); err != nil {
		return Pricing{}, nil, err
	}
	if in.Variant.PriceMinor < 0 || in.Variant.PriceMinor > maxPriceMinor {
		return Pricing{}, nil, Invalid("invalid_amount", "variant price is out of bounds")
	}
	line := OrderLine{
		ProductID: in.Product.ID, VariantID: in.Variant.ID, SKU: in.Variant.SKU, Title: in.Product.Title,
		Options: in.Variant.Options, UnitPrice: in.Variant.PriceMinor, Quantity: in.Quantity,
		Amount: in.Variant.PriceMinor * int64(in.Quantity),
	}
	subtotal := Money{Amount: line.Amount, Currency: in.Product.Currency}
	rates, err := in.Shipping.RatesFor(in.Destination.Country, subtotal)
	if err != nil {
		return Pricing{}, nil, err
	}
	rate, err := ChooseRate(rates, in.RateID)
	if err != nil {
		return Pricing{}, rates, err
	}
	tax, err := in.Tax.CalculateTax(ctx, TaxInput{
		MerchantID: in.Product.MerchantID, Destination: in.Destination, Currency: subtotal.Currency,
		Lines: []int64{line.Amount}, Shipping: rate.Amount,
	})
	if err != nil {
		return Pricing{}, rates, err
	}
	if len(tax.Lines) != 1 || tax.Charge.Amount < 0 {
		return Pricing{}, rates, Errorf(KindInternal, "tax_calculation", "tax calculation answered %d lines", len(tax.Lines))
	}
	line.Tax = tax.Lines[0]
	p := Pricing{
		Lines:    []OrderLine{line},
		Subtotal: line.Amount,
		Shipping: ShippingCharge{RateID: rate.ID, Name: rate.Name, Amount: rate.Amount, Tax: tax.ShippingTax,
			MinDays: rate.MinDays, MaxDays: rate.MaxDays},
		Tax:      tax.Charge,
		Currency: subtotal.Currency,
	}
	p.Total = p.Subtotal + p.Shipping.Amount
	if !p.Tax.Inclusive {
		p.Total += p.Tax.Amount
	}
	if p.Total <= 0 || p.Total > MaxAmountMinor {
		return Pricing{}, rates, Invalid("amount_too_large", "the order total is out of bounds")
	}
	return p, rates, nil
}

// Quote is a priced offer a buyer may pay until it expires.
type Quote struct {
	ID        string `json:"quote_id"`
	BuyerID   string `json:"-"` // "" : quoted anonymously, any buyer may pay it
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Quantity  int    `json:"quantity"`
	Pricing
	Rates []RateChoice `json:"shipping_rates"`
	// DestinationFingerprint binds the quote to the destination it priced.
	DestinationFingerprint string    `json:"-"`
	OrderID                string    `json:"-"` // the purchase that used it, if any
	ExpiresAt              time.Time `json:"expires_at"`
	CreatedAt              time.Time `json:"created_at"`
}

// Codes of quote refusals.
const (
	CodeQuoteExpired      = "quote_expired"        // past its expiry, or the price changed since: a new quote comes with it
	CodeQuoteNotFound     = "quote_not_found"      // no such quote
	CodeQuoteOfOtherBuyer = "quote_of_other_buyer" // quoted for another buyer
	CodeQuoteUsed         = "quote_used"           // another purchase paid it
	CodeQuoteMismatch     = "quote_mismatch"       // the purchase asks for another product, variant, quantity, rate or destination
	CodeVariantOfOther    = "variant_of_other_product"
)

// CheckQuoteUse checks that a purchase may pay q: the buyer's, unused by
// another order, for what the purchase asks. Expiry and prices are checked
// by the caller, which can then offer a new quote.
func (q Quote) CheckQuoteUse(buyerID, orderID, productID, variantID string, quantity int, dest Destination) error {
	if q.BuyerID != "" && q.BuyerID != buyerID {
		return Errorf(KindForbidden, CodeQuoteOfOtherBuyer, "this quote was made for another buyer")
	}
	if q.OrderID != "" && q.OrderID != orderID {
		return Conflict(CodeQuoteUsed, "this quote was already paid by another purchase")
	}
	if q.ProductID != productID || (variantID != "" && q.VariantID != variantID) || q.Quantity != quantity ||
		q.DestinationFingerprint != dest.Fingerprint() {
		return Invalid(CodeQuoteMismatch, "the purchase does not match its quote (product, variant, quantity or destination)")
	}
	return nil
}

// Expired reports whether the quote may no longer be paid at now.
func (q Quote) Expired(now time.Time) bool { return !now.Before(q.ExpiresAt) }

// OrderRequest is what a buyer asks to be priced: a variant of a product,
// a quantity, where it ships and, optionally, which rate.
type OrderRequest struct {
	ProductID   string
	Choice      VariantChoice
	Quantity    int
	Destination Destination
	RateID      string
}

// PricedOrder is an OrderRequest priced against the catalogue as it is now.
type PricedOrder struct {
	Product ProductDetail
	Variant Variant
	Pricing Pricing
	Rates   []RateChoice
}

// RefundLine asks to refund units of one line of an order.
type RefundLine struct {
	VariantID string `json:"variant_id"`
	Quantity  int    `json:"quantity"`
}

// RefundOfLines is what refunding units of the order's lines gives back:
// for each, the line's share of what the buyer paid for it (its amount,
// plus its tax when the tax was added on top), pro rata per unit and
// rounded half up. Shipping is refunded by amount. The refund ledger still
// caps every refund at the captured total.
func (p OrderPricing) RefundOfLines(lines []RefundLine) (int64, error) {
	if len(lines) == 0 || len(lines) > MaxVariants {
		return 0, Invalid("invalid_refund_lines", "name 1 to %d lines of the order", MaxVariants)
	}
	taken := map[string]int{}
	var total int64
	for _, r := range lines {
		var line *OrderLine
		for i := range p.Lines {
			if p.Lines[i].VariantID == r.VariantID {
				line = &p.Lines[i]
			}
		}
		if line == nil {
			return 0, Invalid("unknown_refund_line", "the order has no line for variant %q", r.VariantID)
		}
		taken[r.VariantID] += r.Quantity
		if r.Quantity <= 0 || taken[r.VariantID] > line.Quantity {
			return 0, Invalid("invalid_refund_quantity", "refund 1 to %d units of variant %q", line.Quantity, r.VariantID)
		}
		paid := line.Amount
		if p.Tax != nil && !p.Tax.Inclusive {
			paid += line.Tax
		}
		total += roundHalfUp(paid*int64(r.Quantity), int64(line.Quantity))
	}
	return total, nil
}
