package models

import (
	"strings"
	"unicode/utf8"
)

// Address is where an order ships. It is personal data: it is encrypted at
// rest and never put in ids, search attributes or logs.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"` // ISO 3166-1 alpha-2
}

// Normalize trims spaces and upper-cases the country.
func (a *Address) Normalize() {
	for _, f := range []*string{&a.Name, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country} {
		*f = strings.TrimSpace(*f)
	}
	a.Country = strings.ToUpper(a.Country)
}

// Validate reports the first missing or malformed field.
func (a Address) Validate() error {
	required := []struct{ name, value string }{
		{"name", a.Name}, {"line1", a.Line1}, {"city", a.City}, {"postal_code", a.PostalCode}, {"country", a.Country},
	}
	for _, f := range required {
		if f.value == "" {
			return Invalid("invalid_address", "shipping_address.%s is required", f.name)
		}
	}
	all := []struct{ name, value string }{
		{"name", a.Name}, {"line1", a.Line1}, {"line2", a.Line2}, {"city", a.City},
		{"region", a.Region}, {"postal_code", a.PostalCode}, {"country", a.Country},
	}
	for _, f := range all {
		if !utf8.ValidString(f.value) || len(f.value) > 200 {
			return Invalid("invalid_address", "shipping_address.%s must be valid text of at most 200 bytes", f.name)
		}
	}
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country || !isLetters(a.Country) {
		return Invalid("invalid_address", "shipping_address.country must be a two-letter ISO 3166-1 code")
	}
	return nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
