package models

import "time"

// MerchantKey describes one API key of a merchant without revealing it. The
// current key has every right; a key rotated away keeps, until ExpiresAt,
// only the rights a staged deploy needs (read and fulfil), so a leaked key
// cannot take the account over once the merchant has rotated.
type MerchantKey struct {
	ID        string     `json:"id"`
	Current   bool       `json:"current"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Merchant audit event types: every change of who can act for the account.
const (
	AuditKeyRotated        = "key.rotated"
	AuditKeyRevoked        = "key.revoked"
	AuditKeysReset         = "keys.reset_by_operator"
	AuditWebhookUpdated    = "webhook.updated"
	AuditActorMerchant     = "merchant"
	AuditActorOperator     = "operator"
	MerchantKeyIDPrefix    = "mkid_"
	merchantKeyIDHexDigits = 16
)

// MerchantAuditEvent records a change to a merchant's credentials or
// webhook: which key made it (ActorKeyID, empty for an operator) and which
// key it concerns.
type MerchantAuditEvent struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Actor      string    `json:"actor"`
	ActorKeyID string    `json:"actor_key_id,omitempty"`
	KeyID      string    `json:"key_id,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// MerchantKeyID is the public name of the key whose SHA-256 hex is hash: a
// prefix of the hash, enough to tell a merchant's keys apart and nothing
// that helps recover the key.
func MerchantKeyID(hash string) string {
	if len(hash) < merchantKeyIDHexDigits {
		return ""
	}
	return MerchantKeyIDPrefix + hash[:merchantKeyIDHexDigits]
}
