package models

import (
	"crypto/sha256"
	"encoding/hex"
)

// TextID is the one way client text (request keys, buyer ids, Stripe ids)
// becomes part of an id we derive — a workflow id, an event id, an
// idempotency key: 24 hex digits of its SHA-256, so the same text always
// names the same thing and no text reaches the id as it is.
func TextID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
