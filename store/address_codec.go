package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/models"
)

// addressCodec is the only place an address is turned into column text and
// back. Addresses are personal data, so the text is AES-256-GCM ciphertext
// from the store's key ring ("v1:<key id>:…"), bound by associated data to
// the row and column it was written for: a value copied into another row
// does not open.
type addressCodec struct {
	ring *keyring.Ring
}

// Seal turns an address into the text stored in its column; ad names the
// place (e.g. "order:<id>:shipping"). An empty address (a redacted one) is
// stored as empty text.
func (c addressCodec) Seal(a models.Address, ad string) (string, error) {
	if a == (models.Address{}) {
		return "", nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("store: seal address: %w", err)
	}
	return c.sealText(string(b), ad)
}

// Open reverses Seal. An empty column is an empty address, not an error.
// Rows written before encryption hold plain JSON; they still read, and
// `checkout reencrypt` seals them.
func (c addressCodec) Open(s, ad string) (models.Address, error) {
	var a models.Address
	if s == "" {
		return a, nil
	}
	plain := s
	if !isLegacyPlaintext(s) {
		var err error
		if plain, err = c.ring.OpenString(s, ad); err != nil {
			return models.Address{}, fmt.Errorf("store: open address: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(plain), &a); err != nil {
		return models.Address{}, fmt.Errorf("store: open address: %w", err)
	}
	return a, nil
}

// sealText encrypts one personal text field; empty stays empty so "not
// given" needs no ciphertext.
func (c addressCodec) sealText(s, ad string) (string, error) {
	if s == "" {
		return "", nil
	}
	out, err := c.ring.SealString(s, ad)
	if err != nil {
		return "", fmt.Errorf("store: seal: %w", err)
	}
	return out, nil
}

// openText reverses sealText.
func (c addressCodec) openText(s, ad string) (string, error) {
	if s == "" {
		return "", nil
	}
	out, err := c.ring.OpenString(s, ad)
	if err != nil {
		return "", fmt.Errorf("store: open: %w", err)
	}
	return out, nil
}

// needsReseal reports whether a stored value is plaintext from before
// encryption or sealed under a key that is no longer the active one.
func (c addressCodec) needsReseal(s string) bool {
	return s != "" && (isLegacyPlaintext(s) || c.ring.NeedsRotationString(s))
}

// isLegacyPlaintext recognises the JSON that addresses were stored as before
// they were encrypted; sealed text always starts with "v1:".
func isLegacyPlaintext(s string) bool { return strings.HasPrefix(s, "{") }

// Associated data of each sealed column: the table, the row and the field.
func orderShippingAD(orderID string) string       { return "order:" + orderID + ":shipping" }
func profileFieldAD(buyerID, field string) string { return "profile:" + buyerID + ":" + field }
func outboxPayloadAD(orderID string, seq int) string {
	return "merchant_outbox:" + orderID + ":" + strconv.Itoa(seq)
}
