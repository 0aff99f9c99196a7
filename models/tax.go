package models

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Tax arithmetic. Rates are basis points (1 bp = 0.01 %, 2000 = 20 %). Tax
// is computed per line (each order line, then shipping as a line of its
// own) and each line's tax is rounded half up to the currency's minor unit:
// the one rounding rule. Amounts are minor units of the currency, whatever
// its exponent (cents for USD, yen for JPY), so JPY needs no special case.
const (
	bpsPerUnit     = 10_000
	MaxTaxRateBps  = 10_000 // 100 %
	maxTaxRates    = 500
	maxTaxNameText = 40
)

// roundHalfUp is n/d rounded half up, for n >= 0, d > 0.
func roundHalfUp(n, d int64) int64 { return (2*n + d) / (2 * d) }

// LineTax is the tax in a line of the given amount: on top of it when
// exclusive, contained in it when inclusive. amount must be at most
// MaxAmountMinor, so no product overflows.
func LineTax(amount int64, rateBps int, inclusive bool) int64 {
	if amount <= 0 || rateBps <= 0 {
		return 0
	}
	r := int64(rateBps)
	if inclusive {
		return roundHalfUp(amount*r, bpsPerUnit+r)
	}
	return roundHalfUp(amount*r, bpsPerUnit)
}

// TaxRate is one row of a merchant's tax table: the rate due in a country,
// or in one region of it.
type TaxRate struct {
	Country string `json:"country"`          // ISO 3166-1 alpha-2
	Region  string `json:"region,omitempty"` // as the address gives it (e.g. "CA"); empty: the whole country
	Name    string `json:"name,omitempty"`   // shown to the buyer, e.g. "VAT"
	RateBps int    `json:"rate_bps"`
	// Inclusive: listed prices already contain the tax (EU VAT); exclusive:
	// it is added on top (US sales tax).
	Inclusive bool `json:"inclusive"`
	// ShippingTaxed: the shipping charge is taxed at the same rate.
	ShippingTaxed bool `json:"shipping_taxed"`
}

// TaxTable is a merchant's tax policy: a destination no row names pays no tax.
type TaxTable struct {
	Rates []TaxRate `json:"rates"`
}

// Validate checks the table and normalises its codes.
func (t *TaxTable) Validate() error {
	if len(t.Rates) > maxTaxRates {
		return Invalid("too_many_tax_rates", "a tax table has at most %d rates", maxTaxRates)
	}
	seen := map[string]bool{}
	for i := range t.Rates {
		r := &t.Rates[i]
		r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
		r.Region = strings.ToUpper(strings.TrimSpace(r.Region))
		r.Name = strings.TrimSpace(r.Name)
		if !countryCode(r.Country) {
			return Invalid("invalid_tax_rate", "tax rate country must be a two-letter ISO 3166-1 code")
		}
		if len(r.Region) > 10 || !utf8.ValidString(r.Region) || len(r.Name) > maxTaxNameText || !utf8.ValidString(r.Name) {
			return Invalid("invalid_tax_rate", "tax rate region or name is too long")
		}
		if r.RateBps < 0 || r.RateBps > MaxTaxRateBps {
			return Invalid("invalid_tax_rate", "rate_bps must be between 0 and %d", MaxTaxRateBps)
		}
		key := r.Country + "/" + r.Region
		if seen[key] {
			return Invalid("duplicate_tax_rate", "two rates for %s", key)
		}
		seen[key] = true
	}
	return nil
}

// RateFor is the rate due at a destination: the region's row if there is
// one, else the country's.
func (t TaxTable) RateFor(country, region string) (TaxRate, bool) {
	country, region = strings.ToUpper(country), strings.ToUpper(region)
	var whole *TaxRate
	for i := range t.Rates {
		r := &t.Rates[i]
		if r.Country != country {
			continue
		}
		if region != "" && r.Region == region {
			return *r, true
		}
		if r.Region == "" {
			whole = r
		}
	}
	if whole != nil {
		return *whole, true
	}
	return TaxRate{}, false
}

// TaxInput is what a tax calculation needs: where the goods go, the lines'
// amounts and the shipping charge, in one currency.
type TaxInput struct {
	MerchantID  string
	Destination Destination
	Currency    string
	Lines       []int64 // each line's amount (unit price × quantity), as listed
	Shipping    int64
}

// TaxResult is a calculation's answer: the tax of each line and of
// shipping, their sum, and the rule applied.
type TaxResult struct {
	Lines       []int64
	ShippingTax int64
	Charge      TaxCharge
}

// TaxCalculator computes the tax of a purchase. TaxTable is the one
// implementation: a tax service (Stripe Tax's calculation API) can replace it
// behind this interface, which is why it takes a context and may fail.
type TaxCalculator interface {
	CalculateTax(ctx context.Context, in TaxInput) (TaxResult, error)
}

// CalculateTax applies the table's rate for the destination.
func (t TaxTable) CalculateTax(_ context.Context, in TaxInput) (TaxResult, error) {
	res := TaxResult{Lines: make([]int64, len(in.Lines))}
	rate, ok := t.RateFor(in.Destination.Country, in.Destination.Region)
	if !ok {
		return res, nil
	}
	res.Charge = TaxCharge{Name: rate.Name, RateBps: rate.RateBps, Inclusive: rate.Inclusive, ShippingTaxed: rate.ShippingTaxed}
	for i, amount := range in.Lines {
		res.Lines[i] = LineTax(amount, rate.RateBps, rate.Inclusive)
		res.Charge.Amount += res.Lines[i]
	}
	if rate.ShippingTaxed {
		res.ShippingTax = LineTax(in.Shipping, rate.RateBps, rate.Inclusive)
		res.Charge.Amount += res.ShippingTax
	}
	return res, nil
}

// TaxCharge is the tax of an order as the buyer and merchant see it.
type TaxCharge struct {
	Amount        int64  `json:"amount"`
	Name          string `json:"name,omitempty"`
	RateBps       int    `json:"rate_bps"`
	Inclusive     bool   `json:"inclusive"`
	ShippingTaxed bool   `json:"shipping_taxed"`
}

func countryCode(c string) bool { return len(c) == 2 && isLetters(c) }
