package store

import (
	"encoding/json"
	"fmt"

	"github.com/buybutton/checkout/models"
)

// addressCodec is the only place an address is turned into column text and
// back. Addresses are personal data: encryption at rest wraps Seal and Open
// here, and no repository changes.
type addressCodec struct{}

// Seal turns an address into the text stored in its column.
func (addressCodec) Seal(a models.Address) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("store: seal address: %w", err)
	}
	return string(b), nil
}

// Open reverses Seal. An empty column is an empty address, not an error.
func (addressCodec) Open(s string) (models.Address, error) {
	var a models.Address
	if s == "" {
		return a, nil
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return models.Address{}, fmt.Errorf("store: open address: %w", err)
	}
	return a, nil
}
