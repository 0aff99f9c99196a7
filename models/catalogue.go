package models

import (
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Bounds of a product's catalogue entry.
const (
	MaxOptions       = 3
	MaxOptionValues  = 20
	MaxVariants      = 100
	MaxImages        = 8
	MaxImageURLBytes = 2048
	maxOptionText    = 60
	maxSKUBytes      = 64
	maxPriceMinor    = 99_999_999
	maxStock         = 1_000_000
)

// Option is one way a product varies (size, colour) and the values it takes.
type Option struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Variant is one combination of option values a merchant sells, with its own
// SKU, price and stock. A product without options has exactly one variant,
// whose Options is empty.
type Variant struct {
	ID         string            `json:"id"`
	ProductID  string            `json:"product_id"`
	SKU        string            `json:"sku"`
	Options    map[string]string `json:"options"`
	PriceMinor int64             `json:"price"`
	Stock      int               `json:"stock"`
	Active     bool              `json:"active"`
}

// Available reports whether the variant can be bought now.
func (v Variant) Available() bool { return v.Active && v.Stock > 0 }

// ProductDetail is a product with its options, variants and images.
type ProductDetail struct {
	Product
	Options  []Option  `json:"options"`
	Variants []Variant `json:"variants"`
	Images   []string  `json:"images"`
}

// NewVariant is what a merchant sends for one variant. Price 0 takes the
// product's price; Active nil means active.
type NewVariant struct {
	SKU     string            `json:"sku"`
	Options map[string]string `json:"options"`
	Price   int64             `json:"price"`
	Stock   int               `json:"stock"`
	Active  *bool             `json:"active,omitempty"`
}

// NewCatalogueProduct is what a merchant sends to create a product: the
// product, and optionally its options, variants and images. Without
// variants the product gets one default variant with its price and stock.
type NewCatalogueProduct struct {
	NewProduct
	Options  []Option     `json:"options,omitempty"`
	Variants []NewVariant `json:"variants,omitempty"`
	Images   []string     `json:"images,omitempty"`
}

// Validate checks the whole catalogue entry and fills in defaults: every
// variant has a price, and a product without variants gets its default one.
func (n *NewCatalogueProduct) Validate() error {
	if err := n.NewProduct.Validate(); err != nil {
		return err
	}
	if err := ValidateOptions(n.Options); err != nil {
		return err
	}
	if len(n.Variants) == 0 {
		if len(n.Options) > 0 {
			return Invalid("variants_required", "a product with options needs at least one variant")
		}
		n.Variants = []NewVariant{{Price: n.Price, Stock: n.Stock}}
	}
	if len(n.Variants) > MaxVariants {
		return Invalid("too_many_variants", "a product has at most %d variants", MaxVariants)
	}
	if len(n.Options) == 0 && len(n.Variants) > 1 {
		return Invalid("too_many_variants", "a product without options has exactly one variant")
	}
	seen := map[string]bool{}
	skus := map[string]bool{}
	for i := range n.Variants {
		v := &n.Variants[i]
		if v.Price == 0 {
			v.Price = n.Price
		}
		if err := v.validate(n.Options); err != nil {
			return err
		}
		key := VariantKey(v.Options)
		if seen[key] {
			return Invalid("duplicate_variant", "two variants have the same option values")
		}
		seen[key] = true
		if v.SKU != "" {
			if skus[v.SKU] {
				return Invalid("duplicate_sku", "two variants have the SKU %q", v.SKU)
			}
			skus[v.SKU] = true
		}
	}
	return ValidateImages(n.Images)
}

func (v *NewVariant) validate(options []Option) error {
	v.SKU = strings.TrimSpace(v.SKU)
	if len(v.SKU) > maxSKUBytes || !utf8.ValidString(v.SKU) {
		return Invalid("invalid_sku", "sku must be valid text of at most %d bytes", maxSKUBytes)
	}
	if err := CheckPrice(v.Price); err != nil {
		return err
	}
	if v.Stock < 0 || v.Stock > maxStock {
		return Invalid("invalid_stock", "stock must be between 0 and %d", maxStock)
	}
	return CheckVariantOptions(options, v.Options)
}

// CheckPrice bounds a unit price in minor units.
func CheckPrice(p int64) error {
	if p <= 0 || p > maxPriceMinor {
		return Invalid("invalid_price", "price must be between 1 and %d minor units", maxPriceMinor)
	}
	return nil
}

// ValidateOptions checks option names and values: at most MaxOptions, each
// with 1 to MaxOptionValues distinct values.
func ValidateOptions(options []Option) error {
	if len(options) > MaxOptions {
		return Invalid("too_many_options", "a product has at most %d options", MaxOptions)
	}
	names := map[string]bool{}
	for i := range options {
		o := &options[i]
		o.Name = strings.TrimSpace(o.Name)
		if !optionText(o.Name) {
			return Invalid("invalid_option", "option names must be 1 to %d characters", maxOptionText)
		}
		if names[o.Name] {
			return Invalid("invalid_option", "option %q is given twice", o.Name)
		}
		names[o.Name] = true
		if len(o.Values) == 0 {
			return Invalid("invalid_option", "option %q needs at least one value", o.Name)
		}
		if len(o.Values) > MaxOptionValues {
			return Invalid("too_many_option_values", "an option has at most %d values", MaxOptionValues)
		}
		values := map[string]bool{}
		for j, v := range o.Values {
			v = strings.TrimSpace(v)
			if !optionText(v) || values[v] {
				return Invalid("invalid_option", "option %q has an empty, long or repeated value", o.Name)
			}
			values[v] = true
			o.Values[j] = v
		}
	}
	return nil
}

func optionText(s string) bool {
	return s != "" && len(s) <= maxOptionText && utf8.ValidString(s)
}

// CheckVariantOptions checks that chosen names exactly one declared value of
// every option.
func CheckVariantOptions(options []Option, chosen map[string]string) error {
	if len(chosen) != len(options) {
		return Invalid("invalid_variant_options", "a variant names one value of each of the product's %d options", len(options))
	}
	for _, o := range options {
		v, ok := chosen[o.Name]
		if !ok || !contains(o.Values, v) {
			return Invalid("invalid_variant_options", "a variant needs one of the values of option %q", o.Name)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// VariantKey is a canonical string of a variant's option values, for
// telling combinations apart.
func VariantKey(options map[string]string) string {
	names := make([]string, 0, len(options))
	for n := range options {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
		b.WriteString(options[n])
		b.WriteByte(0)
	}
	return b.String()
}

// ValidateImages checks a product's image URLs: at most MaxImages, each an
// absolute https URL with a host, no credentials, of at most
// MaxImageURLBytes.
func ValidateImages(images []string) error {
	if len(images) > MaxImages {
		return Invalid("too_many_images", "a product has at most %d images", MaxImages)
	}
	for _, raw := range images {
		if len(raw) == 0 || len(raw) > MaxImageURLBytes || strings.ContainsAny(raw, " \t\r\n\"'<>\\") {
			return Invalid("invalid_image_url", "image URLs are 1 to %d bytes, without spaces or quotes", MaxImageURLBytes)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
			return Invalid("invalid_image_url", "image URLs must be absolute https:// URLs")
		}
	}
	return nil
}

// VariantChoice is how a buyer names a variant: by id, or by option values.
type VariantChoice struct {
	VariantID string
	Options   map[string]string
}

// SelectVariant finds the variant a buyer chose among a product's. With
// neither an id nor options, a product of exactly one variant gives that one.
// The id of a variant of another product is the caller's to tell apart (it
// needs the store): here it is unknown_variant.
func (d ProductDetail) SelectVariant(c VariantChoice) (Variant, error) {
	var found *Variant
	switch {
	case c.VariantID != "":
		for i := range d.Variants {
			if d.Variants[i].ID == c.VariantID {
				found = &d.Variants[i]
			}
		}
		if found == nil {
			return Variant{}, Invalid("unknown_variant", "variant_id names no variant of this product")
		}
		if len(c.Options) > 0 && VariantKey(c.Options) != VariantKey(found.Options) {
			return Variant{}, Invalid("variant_options_mismatch", "options do not match variant_id")
		}
	case len(c.Options) > 0:
		key := VariantKey(c.Options)
		for i := range d.Variants {
			if VariantKey(d.Variants[i].Options) == key {
				found = &d.Variants[i]
			}
		}
		if found == nil {
			return Variant{}, Invalid("no_such_variant", "these option values name no variant of the product")
		}
	case len(d.Variants) == 1:
		found = &d.Variants[0]
	default:
		return Variant{}, Invalid("variant_required", "choose a variant: variant_id or options")
	}
	if !found.Active {
		return Variant{}, Invalid("variant_inactive", "this variant is not for sale")
	}
	return *found, nil
}

// VariantUpdate changes a variant; nil fields are left as they are.
type VariantUpdate struct {
	SKU    *string `json:"sku,omitempty"`
	Price  *int64  `json:"price,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

// Validate checks the fields given.
func (u *VariantUpdate) Validate() error {
	if u.SKU != nil {
		s := strings.TrimSpace(*u.SKU)
		if len(s) > maxSKUBytes || !utf8.ValidString(s) {
			return Invalid("invalid_sku", "sku must be valid text of at most %d bytes", maxSKUBytes)
		}
		u.SKU = &s
	}
	if u.Price != nil {
		return CheckPrice(*u.Price)
	}
	return nil
}

// ProductUpdate changes a product's text, images or availability; nil fields
// are left as they are.
type ProductUpdate struct {
	Title       *string   `json:"title,omitempty"`
	Description *string   `json:"description,omitempty" text:"multiline"`
	Images      *[]string `json:"images,omitempty"`
	Active      *bool     `json:"active,omitempty"`
}

// Validate checks the fields given.
func (u *ProductUpdate) Validate() error {
	if u.Title != nil {
		if l := len(*u.Title); l == 0 || l > 200 {
			return Invalid("invalid_title", "title must be 1 to 200 characters")
		}
	}
	if u.Description != nil && len(*u.Description) > 2000 {
		return Invalid("invalid_description", "description must be at most 2000 characters")
	}
	if u.Images != nil {
		return ValidateImages(*u.Images)
	}
	return nil
}

// CheckRestock bounds a restock: a positive number of units.
func CheckRestock(units int) error {
	if units <= 0 || units > maxStock {
		return Invalid("invalid_restock", "restock between 1 and %d units", maxStock)
	}
	return nil
}
