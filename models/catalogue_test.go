package models

import (
	"errors"
	"strings"
	"testing"
)

func shirt() NewCatalogueProduct {
	return NewCatalogueProduct{
		NewProduct: NewProduct{Title: "Shirt", Price: 2500, Currency: "EUR"},
		Options:    []Option{{Name: "size", Values: []string{"S", "M"}}, {Name: "colour", Values: []string{"red", "blue"}}},
		Variants: []NewVariant{
			{SKU: "S-RED", Options: map[string]string{"size": "S", "colour": "red"}, Stock: 3},
			{SKU: "M-BLUE", Options: map[string]string{"size": "M", "colour": "blue"}, Price: 2700, Stock: 3},
		},
		Images: []string{"https://cdn.example/shirt.jpg"},
	}
}

func TestCatalogueValidation(t *testing.T) {
	ok := shirt()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.Variants[0].Price != 2500 || ok.Currency != "eur" {
		t.Fatalf("defaults not filled: %+v", ok)
	}
	plain := NewCatalogueProduct{NewProduct: NewProduct{Title: "Mug", Price: 1200, Currency: "usd", Stock: 7}}
	if err := plain.Validate(); err != nil || len(plain.Variants) != 1 || plain.Variants[0].Stock != 7 || plain.Variants[0].Price != 1200 {
		t.Fatalf("a product without options gets one default variant: %v %+v", err, plain.Variants)
	}
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name string
		edit func(*NewCatalogueProduct)
		code string
	}{
		{"four options", func(p *NewCatalogueProduct) {
			p.Options = append(p.Options, Option{Name: "a", Values: []string{"1"}}, Option{Name: "b", Values: []string{"1"}})
		}, "too_many_options"},
		{"too many values", func(p *NewCatalogueProduct) {
			p.Options[0].Values = many(MaxOptionValues+1, func(i int) string { return strings.Repeat("x", i+1) })
		}, "too_many_option_values"},
		{"repeated value", func(p *NewCatalogueProduct) { p.Options[0].Values = []string{"S", "S"} }, "invalid_option"},
		{"too many variants", func(p *NewCatalogueProduct) {
			p.Variants = make([]NewVariant, MaxVariants+1)
		}, "too_many_variants"},
		{"variant naming an undeclared value", func(p *NewCatalogueProduct) { p.Variants[0].Options["size"] = "XL" }, "invalid_variant_options"},
		{"variant missing an option", func(p *NewCatalogueProduct) { delete(p.Variants[0].Options, "colour") }, "invalid_variant_options"},
		{"two variants alike", func(p *NewCatalogueProduct) {
			p.Variants[1].Options = map[string]string{"size": "S", "colour": "red"}
		}, "duplicate_variant"},
		{"same SKU twice", func(p *NewCatalogueProduct) { p.Variants[1].SKU = "S-RED" }, "duplicate_sku"},
		{"negative variant price", func(p *NewCatalogueProduct) { p.Variants[0].Price = -5 }, "invalid_price"},
		{"overflowing variant price", func(p *NewCatalogueProduct) { p.Variants[0].Price = 1 << 62 }, "invalid_price"},
		{"negative stock", func(p *NewCatalogueProduct) { p.Variants[0].Stock = -1 }, "invalid_stock"},
		{"options without variants", func(p *NewCatalogueProduct) { p.Variants = nil }, "variants_required"},
		{"too many images", func(p *NewCatalogueProduct) {
			p.Images = many(MaxImages+1, func(int) string { return "https://cdn.example/a.jpg" })
		}, "too_many_images"},
		{"http image", func(p *NewCatalogueProduct) { p.Images = []string{"http://cdn.example/a.jpg"} }, "invalid_image_url"},
		{"image with credentials", func(p *NewCatalogueProduct) { p.Images = []string{"https://u:p@cdn.example/a.jpg"} }, "invalid_image_url"},
		{"javascript image", func(p *NewCatalogueProduct) { p.Images = []string{"javascript:alert(1)"} }, "invalid_image_url"},
		{"relative image", func(p *NewCatalogueProduct) { p.Images = []string{"/a.jpg"} }, "invalid_image_url"},
		{"long image URL", func(p *NewCatalogueProduct) {
			p.Images = []string{"https://cdn.example/" + strings.Repeat("a", MaxImageURLBytes)}
		}, "invalid_image_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := shirt()
			c.edit(&p)
			err := p.Validate()
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
		})
	}
}

func TestSelectVariant(t *testing.T) {
	d := ProductDetail{Variants: []Variant{
		{ID: "var_a", Options: map[string]string{"size": "S", "colour": "red"}, Active: true},
		{ID: "var_b", Options: map[string]string{"size": "M", "colour": "blue"}, Active: false},
	}}
	cases := []struct {
		name   string
		choice VariantChoice
		want   string
		code   string
	}{
		{"by id", VariantChoice{VariantID: "var_a"}, "var_a", ""},
		{"by options", VariantChoice{Options: map[string]string{"colour": "red", "size": "S"}}, "var_a", ""},
		{"id and matching options", VariantChoice{VariantID: "var_a", Options: map[string]string{"colour": "red", "size": "S"}}, "var_a", ""},
		{"id and other options", VariantChoice{VariantID: "var_a", Options: map[string]string{"colour": "blue", "size": "M"}}, "", "variant_options_mismatch"},
		{"unknown id", VariantChoice{VariantID: "var_zz"}, "", "unknown_variant"},
		{"options naming none", VariantChoice{Options: map[string]string{"colour": "blue", "size": "S"}}, "", "no_such_variant"},
		{"inactive", VariantChoice{VariantID: "var_b"}, "", "variant_inactive"},
		{"nothing chosen among two", VariantChoice{}, "", "variant_required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := d.SelectVariant(c.choice)
			if c.code == "" {
				if err != nil || v.ID != c.want {
					t.Fatalf("got %s, %v; want %s", v.ID, err, c.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
		})
	}
	single := ProductDetail{Variants: []Variant{{ID: "var_only", Active: true}}}
	if v, err := single.SelectVariant(VariantChoice{}); err != nil || v.ID != "var_only" {
		t.Fatalf("a one-variant product needs no choice: %v %v", v, err)
	}
}

func TestPolicyValidation(t *testing.T) {
	zone := func(countries ...string) ShippingZone {
		return ShippingZone{Name: "Z", Countries: countries, Rates: []ShippingRate{{ID: "r" + strings.ToLower(strings.Join(countries, "")), Name: "R", Amount: 100, Currency: "usd"}}}
	}
	good := ShippingPolicy{Zones: []ShippingZone{zone("us", "CA")}}
	if err := good.Validate(); err != nil || good.Zones[0].Countries[0] != "US" {
		t.Fatalf("%v %+v", err, good)
	}
	bad := []struct {
		name string
		p    ShippingPolicy
		code string
	}{
		{"country in two zones", ShippingPolicy{Zones: []ShippingZone{zone("US"), zone("US", "MX")}}, "invalid_shipping_zone"},
		{"zone with neither", ShippingPolicy{Zones: []ShippingZone{{Name: "Z", Rates: zone("US").Rates}}}, "invalid_shipping_zone"},
		{"negative rate", ShippingPolicy{Zones: []ShippingZone{{Name: "Z", Countries: []string{"US"}, Rates: []ShippingRate{{ID: "a", Name: "A", Amount: -1, Currency: "usd"}}}}}, "invalid_amount"},
		{"no rates", ShippingPolicy{Zones: []ShippingZone{{Name: "Z", Countries: []string{"US"}}}}, "invalid_shipping_rate"},
	}
	for _, c := range bad {
		err := c.p.Validate()
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
		}
	}
	for _, tt := range []TaxTable{
		{Rates: []TaxRate{{Country: "DE", RateBps: -1}}},
		{Rates: []TaxRate{{Country: "DE", RateBps: MaxTaxRateBps + 1}}},
		{Rates: []TaxRate{{Country: "DEU", RateBps: 100}}},
	} {
		if err := tt.Validate(); ErrorKind(err) != KindInvalid {
			t.Errorf("%+v: err = %v", tt, err)
		}
	}
	dup := TaxTable{Rates: []TaxRate{{Country: "us", Region: "ca", RateBps: 1}, {Country: "US", Region: "CA", RateBps: 2}}}
	if err := dup.Validate(); err == nil {
		t.Error("duplicate rate accepted")
	}
}
