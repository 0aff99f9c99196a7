package models

import (
	"fmt"
	"strings"
)

// Money is an amount in the currency's minor unit (cents for USD, yen for JPY).
// Never a float.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"` // ISO 4217, lower case as Stripe uses it
}

// supportedCurrencies lists the ISO 4217 codes the checkout accepts.
var supportedCurrencies = map[string]bool{
	"usd": true, "eur": true, "gbp": true, "cad": true, "aud": true, "jpy": true, "chf": true, "sek": true,
}

// NormalizeCurrency lower-cases a currency code and checks it is supported.
func NormalizeCurrency(c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	if !supportedCurrencies[c] {
		return "", Invalid("invalid_currency", "currency %q is not supported", c)
	}
	return c, nil
}

// Times multiplies a unit price by a quantity, refusing overflow.
func (m Money) Times(q int) (Money, error) {
	if q <= 0 {
		return Money{}, Invalid("invalid_quantity", "quantity must be positive")
	}
	if m.Amount > 0 && m.Amount > (1<<62)/int64(q) {
		return Money{}, Invalid("amount_too_large", "order amount is too large")
	}
	return Money{Amount: m.Amount * int64(q), Currency: m.Currency}, nil
}

func (m Money) String() string { return fmt.Sprintf("%d %s", m.Amount, strings.ToUpper(m.Currency)) }
