package models

import (
	"context"
	"errors"
	"testing"
)

func TestLineTaxRoundsHalfUpPerLine(t *testing.T) {
	cases := []struct {
		name      string
		amount    int64
		bps       int
		inclusive bool
		want      int64
	}{
		{"exclusive below half rounds down", 999, 825, false, 82},   // 82.4175
		{"exclusive exactly half rounds up", 1000, 825, false, 83},  // 82.5
		{"exclusive above half rounds up", 1250, 850, false, 106},   // 106.25 → 106
		{"exclusive just under half", 1249, 400, false, 50},         // 49.96
		{"inclusive 20 % of 25.00", 2500, 2000, true, 417},          // 416.67
		{"inclusive exactly half rounds up", 3, 2000, true, 1},      // 0.5
		{"inclusive just under half rounds down", 2, 2000, true, 0}, // 0.33
		{"JPY inclusive 10 %, exact", 1980, 1000, true, 180},        // 180
		{"JPY inclusive 10 %, rounded", 1999, 1000, true, 182},      // 181.73
		{"JPY exclusive 10 %, half up", 1995, 1000, false, 200},     // 199.5
		{"zero rate", 5000, 0, false, 0},
		{"zero amount", 0, 2000, false, 0},
		{"100 % exclusive", 999_999_999_999, MaxTaxRateBps, false, 999_999_999_999},
		{"100 % inclusive", 999_999_999_999, MaxTaxRateBps, true, 500_000_000_000}, // 499999999999.5
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := LineTax(c.amount, c.bps, c.inclusive); got != c.want {
				t.Fatalf("LineTax(%d, %d, %v) = %d, want %d", c.amount, c.bps, c.inclusive, got, c.want)
			}
		})
	}
}

// policies: EU-style VAT (inclusive, shipping taxed) in DE, US sales tax
// (exclusive, shipping not taxed) in California only, JPY consumption tax.
var (
	testShipping = ShippingPolicy{Zones: []ShippingZone{
		{Name: "Germany", Countries: []string{"DE"}, Rates: []ShippingRate{
			{ID: "de-express", Name: "Express", Amount: 1500, Currency: "eur", MinDays: 1, MaxDays: 2},
			{ID: "de-standard", Name: "Standard", Amount: 490, Currency: "eur", MinDays: 3, MaxDays: 5, FreeAbove: 5000},
		}},
		{Name: "US", Countries: []string{"US"}, Rates: []ShippingRate{
			{ID: "us-ground", Name: "Ground", Amount: 800, Currency: "usd", MinDays: 3, MaxDays: 7, FreeAbove: 10000},
		}},
		{Name: "Japan", Countries: []string{"JP"}, Rates: []ShippingRate{
			{ID: "jp-yamato", Name: "Yamato", Amount: 700, Currency: "jpy", MinDays: 1, MaxDays: 3},
		}},
		{Name: "World", RestOfWorld: true, Rates: []ShippingRate{
			{ID: "world", Name: "International", Amount: 2500, Currency: "eur", MinDays: 7, MaxDays: 21},
		}},
	}}
	testTax = TaxTable{Rates: []TaxRate{
		{Country: "DE", Name: "VAT", RateBps: 1900, Inclusive: true, ShippingTaxed: true},
		{Country: "US", Region: "CA", Name: "Sales tax", RateBps: 725},
		{Country: "JP", Name: "Consumption tax", RateBps: 1000, Inclusive: true, ShippingTaxed: true},
	}}
)

func TestPriceTables(t *testing.T) {
	eur := Product{ID: "prod_1", MerchantID: "mer_1", Title: "Shirt", Currency: "eur"}
	usd := Product{ID: "prod_2", MerchantID: "mer_1", Title: "Shirt", Currency: "usd"}
	jpy := Product{ID: "prod_3", MerchantID: "mer_1", Title: "Cup", Currency: "jpy"}
	cases := []struct {
		name                           string
		product                        Product
		price                          int64
		qty                            int
		dest                           Destination
		rate                           string
		subtotal, shipping, tax, total int64
		rateID                         string
		shippingTax                    int64
	}{
		// 2 × 19.99 = 39.98 + 4.90 standard (cheapest); VAT inside both:
		// 39.98 × 19/119 = 6.383 → 6.38, 4.90 × 19/119 = 0.782 → 0.78.
		{"DE inclusive, shipping taxed", eur, 1999, 2, Destination{Country: "DE"}, "", 3998, 490, 716, 4488, "de-standard", 78},
		// 50.00 reaches the free-shipping threshold exactly.
		{"DE free shipping at threshold", eur, 2500, 2, Destination{Country: "DE"}, "", 5000, 0, 798, 5000, "de-standard", 0},
		// 49.99 is one cent short of it.
		{"DE one cent below threshold", eur, 4999, 1, Destination{Country: "DE"}, "", 4999, 490, 876, 5489, "de-standard", 78},
		{"DE express chosen", eur, 2500, 2, Destination{Country: "DE"}, "de-express", 5000, 1500, 1037, 6500, "de-express", 239},
		// US CA: 7.25 % on 30.00 = 2.175 → 2.18, added; shipping untaxed.
		{"US CA exclusive, shipping untaxed", usd, 1500, 2, Destination{Country: "US", Region: "ca"}, "", 3000, 800, 218, 4018, "us-ground", 0},
		// US outside CA: no row, no tax.
		{"US NY untaxed", usd, 1500, 2, Destination{Country: "US", Region: "NY"}, "", 3000, 800, 0, 3800, "us-ground", 0},
		// JPY: ¥1,980 × 3 = ¥5,940 + ¥700, 10 % inside: 540 + 63.6 → 64.
		{"JPY inclusive, no minor unit", jpy, 1980, 3, Destination{Country: "JP"}, "", 5940, 700, 604, 6640, "jp-yamato", 64},
		{"rest of world", eur, 1000, 1, Destination{Country: "BR"}, "", 1000, 2500, 0, 3500, "world", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, rates, err := Price(context.Background(), PriceInput{
				Product: c.product, Variant: Variant{ID: "var_1", PriceMinor: c.price, Active: true},
				Quantity: c.qty, Destination: c.dest, RateID: c.rate, Shipping: testShipping, Tax: testTax,
			})
			if err != nil {
				t.Fatal(err)
			}
			if p.Subtotal != c.subtotal || p.Shipping.Amount != c.shipping || p.Tax.Amount != c.tax || p.Total != c.total {
				t.Fatalf("subtotal %d shipping %d tax %d total %d; want %d %d %d %d",
					p.Subtotal, p.Shipping.Amount, p.Tax.Amount, p.Total, c.subtotal, c.shipping, c.tax, c.total)
			}
			if p.Shipping.RateID != c.rateID || p.Shipping.Tax != c.shippingTax {
				t.Fatalf("rate %s (tax %d), want %s (tax %d)", p.Shipping.RateID, p.Shipping.Tax, c.rateID, c.shippingTax)
			}
			if p.Lines[0].Tax+p.Shipping.Tax != p.Tax.Amount {
				t.Fatalf("line tax %d + shipping tax %d != tax %d", p.Lines[0].Tax, p.Shipping.Tax, p.Tax.Amount)
			}
			for i := 1; i < len(rates); i++ {
				if rates[i].Amount < rates[i-1].Amount {
					t.Fatalf("rates not cheapest first: %+v", rates)
				}
			}
		})
	}
}

func TestPriceRefusals(t *testing.T) {
	usd := Product{ID: "prod_2", MerchantID: "mer_1", Title: "Shirt", Currency: "usd", MaxPerOrder: 5}
	base := PriceInput{Product: usd, Variant: Variant{ID: "var_1", PriceMinor: 1500, Active: true}, Quantity: 1,
		Destination: Destination{Country: "US"}, Shipping: testShipping, Tax: testTax}
	cases := []struct {
		name string
		edit func(*PriceInput)
		code string
	}{
		{"outside every zone (no rest of world in usd)", func(in *PriceInput) { in.Destination.Country = "FR" }, CodeShippingUnavailable},
		{"unknown rate", func(in *PriceInput) { in.RateID = "de-express" }, "unknown_shipping_rate"},
		{"quantity over the product's limit", func(in *PriceInput) { in.Quantity = 6 }, "quantity_limit"},
		{"zero quantity", func(in *PriceInput) { in.Quantity = 0 }, "invalid_quantity"},
		{"negative price", func(in *PriceInput) { in.Variant.PriceMinor = -1 }, "invalid_amount"},
		{"bad country", func(in *PriceInput) { in.Destination.Country = "U1" }, "invalid_address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			c.edit(&in)
			_, _, err := Price(context.Background(), in)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
		})
	}
}

func TestNoShippingPolicyShipsEverywhereFree(t *testing.T) {
	p, rates, err := Price(context.Background(), PriceInput{
		Product: Product{ID: "prod_1", Currency: "usd"}, Variant: Variant{ID: "var_1", PriceMinor: 2500, Active: true},
		Quantity: 2, Destination: Destination{Country: "GB"}, Tax: TaxTable{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 5000 || p.Shipping.RateID != FreeShippingRateID || len(rates) != 1 {
		t.Fatalf("pricing %+v rates %+v", p, rates)
	}
}

func TestSameMoneyTellsChangesApart(t *testing.T) {
	ctx := context.Background()
	in := PriceInput{Product: Product{ID: "prod_1", Currency: "eur"}, Variant: Variant{ID: "var_1", PriceMinor: 2000, Active: true},
		Quantity: 1, Destination: Destination{Country: "DE"}, Shipping: testShipping, Tax: testTax}
	a, _, _ := Price(ctx, in)
	b, _, _ := Price(ctx, in)
	if !a.SameMoney(b) {
		t.Fatal("the same input priced twice differs")
	}
	changed := in
	changed.Variant.PriceMinor = 2100
	c, _, _ := Price(ctx, changed)
	if a.SameMoney(c) {
		t.Fatal("a price change is not seen")
	}
	taxed := in
	taxed.Tax = TaxTable{Rates: []TaxRate{{Country: "DE", RateBps: 700, Inclusive: true, ShippingTaxed: true}}}
	d, _, _ := Price(ctx, taxed)
	if a.Total != d.Total || a.SameMoney(d) {
		t.Fatalf("an inclusive tax change keeps the total (%d, %d) but must be seen", a.Total, d.Total)
	}
}

func TestRefundOfLines(t *testing.T) {
	inclusive := OrderPricing{Lines: []OrderLine{{VariantID: "var_a", Quantity: 3, Amount: 6000, Tax: 1000}}, Tax: &TaxCharge{Inclusive: true}}
	exclusive := OrderPricing{Lines: []OrderLine{{VariantID: "var_a", Quantity: 3, Amount: 6000, Tax: 435}}, Tax: &TaxCharge{Amount: 435}}
	cases := []struct {
		name    string
		pricing OrderPricing
		lines   []RefundLine
		want    int64
		code    string
	}{
		{"one of three, tax inside", inclusive, []RefundLine{{"var_a", 1}}, 2000, ""},
		{"one of three, tax on top: (6000+435)/3 = 2145", exclusive, []RefundLine{{"var_a", 1}}, 2145, ""},
		{"two of three rounds half up: 12870/3 = 4290", exclusive, []RefundLine{{"var_a", 2}}, 4290, ""},
		{"all three is the line's whole price", exclusive, []RefundLine{{"var_a", 3}}, 6435, ""},
		{"more units than bought", exclusive, []RefundLine{{"var_a", 2}, {"var_a", 2}}, 0, "invalid_refund_quantity"},
		{"negative units", exclusive, []RefundLine{{"var_a", -1}}, 0, "invalid_refund_quantity"},
		{"unknown line", exclusive, []RefundLine{{"var_b", 1}}, 0, "unknown_refund_line"},
		{"no line", exclusive, nil, 0, "invalid_refund_lines"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.pricing.RefundOfLines(c.lines)
			if c.code != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != c.code {
					t.Fatalf("err = %v, want %s", err, c.code)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %d, %v; want %d", got, err, c.want)
			}
		})
	}
}
