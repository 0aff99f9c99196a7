package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefixes of the ids and secrets the store issues; they tell a reader what
// a leaked string is.
const (
	merchantIDPrefix    = "mer_"
	productIDPrefix     = "prod_"
	apiKeyPrefix        = "mk_"
	webhookSecretPrefix = "whsec_"
)

// newID returns prefix plus 26 random base32 characters (130 bits).
func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()) }

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it aborts the program instead
	return hex.EncodeToString(b)
}

// newAPIKey returns "mk_" plus 32 hex characters (128 bits).
func newAPIKey() string { return apiKeyPrefix + randomHex(16) }

func newWebhookSecret() string { return webhookSecretPrefix + randomHex(32) }

// hashAPIKey is what is stored instead of the key. A plain SHA-256 is enough
// because the key is 128 random bits, not a password; looking the hash up in
// an index reveals nothing useful about the key to a timing attacker.
func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
