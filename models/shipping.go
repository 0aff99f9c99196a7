package models

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Bounds of a shipping policy.
const (
	maxShippingZones = 20
	maxZoneCountries = 250
	maxZoneRates     = 10
	maxRateDays      = 365
)

// ShippingRate is one way to ship to a zone, at a price.
type ShippingRate struct {
	ID       string `json:"id"` // chosen by the merchant, unique in the policy: "standard", "express"
	Name     string `json:"name"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	MinDays  int    `json:"min_days"`
	MaxDays  int    `json:"max_days"`
	// FreeAbove makes the rate free when the order's subtotal (the lines,
	// before tax) is at least this amount; 0: never free.
	FreeAbove int64 `json:"free_above,omitempty"`
}

// ShippingZone is where a set of rates applies: a list of countries, or the
// rest of the world (every country no other zone names).
type ShippingZone struct {
	Name        string         `json:"name"`
	Countries   []string       `json:"countries,omitempty"`
	RestOfWorld bool           `json:"rest_of_world,omitempty"`
	Rates       []ShippingRate `json:"rates"`
}

// ShippingPolicy is a merchant's zones. A merchant with no zones ships
// everywhere free: the checkout's behaviour before shipping policies existed.
type ShippingPolicy struct {
	Zones []ShippingZone `json:"zones"`
}

// FreeShippingRateID names the one rate of a merchant without zones.
const FreeShippingRateID = "free"

// Validate checks the policy and normalises its codes.
func (p *ShippingPolicy) Validate() error {
	if len(p.Zones) > maxShippingZones {
		return Invalid("too_many_shipping_zones", "a policy has at most %d zones", maxShippingZones)
	}
	countries := map[string]bool{}
	rateIDs := map[string]bool{}
	restOfWorld := false
	for i := range p.Zones {
		z := &p.Zones[i]
		z.Name = strings.TrimSpace(z.Name)
		if z.Name == "" || len(z.Name) > 60 || !utf8.ValidString(z.Name) {
			return Invalid("invalid_shipping_zone", "zone names are 1 to 60 characters")
		}
		if z.RestOfWorld == (len(z.Countries) > 0) {
			return Invalid("invalid_shipping_zone", "zone %q needs either countries or rest_of_world", z.Name)
		}
		if z.RestOfWorld {
			if restOfWorld {
				return Invalid("invalid_shipping_zone", "only one zone may be rest_of_world")
			}
			restOfWorld = true
		}
		if len(z.Countries) > maxZoneCountries {
			return Invalid("invalid_shipping_zone", "a zone has at most %d countries", maxZoneCountries)
		}
		for j, c := range z.Countries {
			c = strings.ToUpper(strings.TrimSpace(c))
			if !countryCode(c) {
				return Invalid("invalid_shipping_zone", "countries are two-letter ISO 3166-1 codes")
			}
			if countries[c] {
				return Invalid("invalid_shipping_zone", "country %s is in two zones", c)
			}
			countries[c] = true
			z.Countries[j] = c
		}
		if len(z.Rates) == 0 || len(z.Rates) > maxZoneRates {
			return Invalid("invalid_shipping_rate", "a zone has 1 to %d rates", maxZoneRates)
		}
		for j := range z.Rates {
			if err := z.Rates[j].validate(); err != nil {
				return err
			}
			if rateIDs[z.Rates[j].ID] {
				return Invalid("invalid_shipping_rate", "rate id %q is used twice", z.Rates[j].ID)
			}
			rateIDs[z.Rates[j].ID] = true
		}
	}
	return nil
}

func (r *ShippingRate) validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if !slug(r.ID) {
		return Invalid("invalid_shipping_rate", "rate ids are 1 to 40 of a-z, 0-9, - and _")
	}
	if r.Name == "" || len(r.Name) > 60 || !utf8.ValidString(r.Name) {
		return Invalid("invalid_shipping_rate", "rate names are 1 to 60 characters")
	}
	if r.Amount < 0 || r.Amount > maxPriceMinor || r.FreeAbove < 0 || r.FreeAbove > MaxAmountMinor {
		return Invalid("invalid_amount", "shipping amounts are between 0 and %d minor units", maxPriceMinor)
	}
	c, err := NormalizeCurrency(r.Currency)
	if err != nil {
		return err
	}
	r.Currency = c
	if r.MinDays < 0 || r.MaxDays < r.MinDays || r.MaxDays > maxRateDays {
		return Invalid("invalid_shipping_rate", "0 <= min_days <= max_days <= %d", maxRateDays)
	}
	return nil
}

func slug(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// RateChoice is a rate as offered for one order: its amount after the free
// shipping threshold.
type RateChoice struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	MinDays  int    `json:"min_days"`
	MaxDays  int    `json:"max_days"`
}

// RatesFor lists the rates offered for shipping to country an order of the
// given subtotal, cheapest first (ties in the merchant's order). A
// destination outside every zone, or a zone with no rate in the order's
// currency, is shipping_unavailable.
func (p ShippingPolicy) RatesFor(country string, subtotal Money) ([]RateChoice, error) {
	if len(p.Zones) == 0 {
		return []RateChoice{{ID: FreeShippingRateID, Name: "Free shipping", Currency: subtotal.Currency}}, nil
	}
	zone := p.zoneFor(strings.ToUpper(country))
	var out []RateChoice
	if zone != nil {
		for _, r := range zone.Rates {
			if r.Currency != subtotal.Currency {
				continue
			}
			amount := r.Amount
			if r.FreeAbove > 0 && subtotal.Amount >= r.FreeAbove {
				amount = 0
			}
			out = append(out, RateChoice{ID: r.ID, Name: r.Name, Amount: amount, Currency: r.Currency, MinDays: r.MinDays, MaxDays: r.MaxDays})
		}
	}
	if len(out) == 0 {
		return nil, Errorf(KindInvalid, CodeShippingUnavailable, "the merchant does not ship to %s", strings.ToUpper(country))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Amount < out[j].Amount })
	return out, nil
}

// CodeShippingUnavailable refuses a destination outside every zone.
const CodeShippingUnavailable = "shipping_unavailable"

func (p ShippingPolicy) zoneFor(country string) *ShippingZone {
	var rest *ShippingZone
	for i := range p.Zones {
		z := &p.Zones[i]
		if z.RestOfWorld {
			rest = z
			continue
		}
		if contains(z.Countries, country) {
			return z
		}
	}
	return rest
}

// ChooseRate picks the rate named id among choices, or the cheapest when id
// is empty.
func ChooseRate(choices []RateChoice, id string) (RateChoice, error) {
	if id == "" {
		return choices[0], nil
	}
	for _, c := range choices {
		if c.ID == id {
			return c, nil
		}
	}
	return RateChoice{}, Invalid("unknown_shipping_rate", "shipping_rate %q is not offered for this destination", id)
}
