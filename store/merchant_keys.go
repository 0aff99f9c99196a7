package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
)

// merchantKeyRow is an API key that still opens the account after it was
// rotated away: the merchant's current key lives in merchants.api_key_hash,
// retired ones here until expires_at, so a deploy of the new key can roll out
// while the old one still works. A retired key only reads and fulfils (see
// api/merchant_keys.go).
type merchantKeyRow struct {
	KeyHash    string    `gorm:"primaryKey;size:64"`
	MerchantID string    `gorm:"size:64;not null;index:idx_merchant_keys_merchant"`
	CreatedAt  time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null"`
}

func (merchantKeyRow) TableName() string { return "merchant_keys" }

// merchantAuditRow is one change to who can act for a merchant, or where its
// events go; the merchant lists them (GET /v1/merchant/audit-events).
type merchantAuditRow struct {
	ID         string    `gorm:"primaryKey;size:64"`
	MerchantID string    `gorm:"size:64;not null;index:idx_merchant_audit_merchant,priority:1"`
	Type       string    `gorm:"size:64;not null"`
	Actor      string    `gorm:"size:16;not null"`
	ActorKeyID string    `gorm:"size:32"`
	KeyID      string    `gorm:"size:32"`
	Detail     string    `gorm:"size:500"`
	CreatedAt  time.Time `gorm:"not null;index:idx_merchant_audit_merchant,priority:2"`
	// Announced: the merchant's webhook was told (or had no address then).
	Announced bool `gorm:"not null;default:false"`
}

func (merchantAuditRow) TableName() string { return "merchant_audit_events" }

// MaxKeyGrace bounds how long a rotated-away key keeps working.
const MaxKeyGrace = 30 * 24 * time.Hour

const auditIDPrefix = "maud_"

func addMerchantAudit(tx *gorm.DB, merchantID string, ev models.MerchantAuditEvent) error {
	row := merchantAuditRow{ID: newID(auditIDPrefix), MerchantID: merchantID, Type: ev.Type, Actor: ev.Actor,
		ActorKeyID: ev.ActorKeyID, KeyID: ev.KeyID, Detail: ev.Detail, CreatedAt: now()}
	if err := tx.Create(&row).Error; err != nil {
		return dbError("merchant audit", "merchant", err)
	}
	return nil
}

// errKeyNotCurrent refuses a credential change asked with a rotated-away
// key: after a leak the merchant rotates, and the leaked key must not be
// able to rotate again, revoke the merchant's new key or move the webhook.
var errKeyNotCurrent = models.Errorf(models.KindForbidden, "key_not_current",
	"only the merchant's current API key may change keys; this key has been rotated away")

// AuthenticateMerchantKey finds the merchant owning apiKey and tells which
// of its keys it is. A wrong, malformed, unknown, revoked or expired key is
// a not-found, so callers cannot tell them apart.
func (s *Store) AuthenticateMerchantKey(ctx context.Context, apiKey string) (models.Merchant, models.MerchantKey, error) {
	if !validAPIKeyShape(apiKey) {
		return models.Merchant{}, models.MerchantKey{}, models.NotFound("merchant")
	}
	hash := hashAPIKey(apiKey)
	key := models.MerchantKey{ID: models.MerchantKeyID(hash), Current: true}
	var row merchantRow
	err := s.db.WithContext(ctx).Where("api_key_hash = ?", hash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		var k merchantKeyRow
		if err = s.db.WithContext(ctx).Where("key_hash = ? AND expires_at > ?", hash, now()).Take(&k).Error; err == nil {
			key.Current, key.ExpiresAt = false, utcPtr(k.ExpiresAt)
			err = s.db.WithContext(ctx).Where("id = ?", k.MerchantID).Take(&row).Error
		}
	}
	if err != nil {
		return models.Merchant{}, models.MerchantKey{}, dbError("merchant by api key", "merchant", err)
	}
	m, err := s.merchantFromRow(row)
	return m, key, err
}

func utcPtr(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// currentKeyRow loads the merchant inside tx and checks that callerKeyID is
// its current key.
func currentKeyRow(tx *gorm.DB, merchantID, callerKeyID string) (merchantRow, error) {
	var row merchantRow
	if err := tx.Where("id = ?", merchantID).Take(&row).Error; err != nil {
		return merchantRow{}, dbError("merchant keys", "merchant", err)
	}
	if callerKeyID == "" || models.MerchantKeyID(row.APIKeyHash) != callerKeyID {
		return merchantRow{}, errKeyNotCurrent
	}
	return row, nil
}

// replaceCurrentKey swaps the current key hash for a new key's, failing if
// another change got there first.
func replaceCurrentKey(tx *gorm.DB, row merchantRow, key string) error {
	res := tx.Model(&merchantRow{}).Where("id = ? AND api_key_hash = ?", row.ID, row.APIKeyHash).
		Update("api_key_hash", hashAPIKey(key))
	if res.Error != nil {
		return dbError("rotate key", "merchant", res.Error)
	}
	if res.RowsAffected != 1 {
		return models.Conflict("key_rotation_conflict", "the key was rotated concurrently; try again")
	}
	return nil
}

// RotateMerchantKey issues a new API key for the merchant and keeps the
// current one valid, with narrowed rights, for grace (capped at MaxKeyGrace;
// 0 retires it at once). Only the current key (callerKeyID) may rotate. The
// new key is returned this once; only its hash is stored.
func (s *Store) RotateMerchantKey(ctx context.Context, merchantID, callerKeyID string, grace time.Duration) (string, time.Time, error) {
	grace = min(max(grace, 0), MaxKeyGrace)
	key := newAPIKey()
	t := now()
	expires := t.Add(grace)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := currentKeyRow(tx, merchantID, callerKeyID)
		if err != nil {
			return err
		}
		detail := "previous key " + callerKeyID + " retired at once"
		if grace > 0 {
			if err := tx.Create(&merchantKeyRow{KeyHash: row.APIKeyHash, MerchantID: merchantID, CreatedAt: t, ExpiresAt: expires}).Error; err != nil {
				return dbError("retire key", "merchant", err)
			}
			detail = fmt.Sprintf("previous key %s may read and fulfil until %s", callerKeyID, expires.UTC().Format(time.RFC3339))
		}
		if err := replaceCurrentKey(tx, row, key); err != nil {
			return err
		}
		return addMerchantAudit(tx, merchantID, models.MerchantAuditEvent{Type: models.AuditKeyRotated,
			Actor: models.AuditActorMerchant, ActorKeyID: callerKeyID, KeyID: models.MerchantKeyID(hashAPIKey(key)), Detail: detail})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return key, expires, nil
}

// RevokeMerchantKey ends rotated-away keys at once: keyID, or every one
// when keyID is empty. Only the current key (callerKeyID) may revoke, and it
// cannot revoke itself (rotate instead). It returns the ids revoked.
func (s *Store) RevokeMerchantKey(ctx context.Context, merchantID, callerKeyID, keyID string) ([]string, error) {
	var revoked []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := currentKeyRow(tx, merchantID, callerKeyID); err != nil {
			return err
		}
		if keyID != "" && keyID == callerKeyID {
			return models.Conflict("cannot_revoke_current_key", "the current key cannot be revoked; rotate it with grace_period_seconds 0")
		}
		var rows []merchantKeyRow
		if err := tx.Where("merchant_id = ? AND expires_at > ?", merchantID, now()).Find(&rows).Error; err != nil {
			return dbError("revoke key", "merchant", err)
		}
		for _, r := range rows {
			id := models.MerchantKeyID(r.KeyHash)
			if keyID != "" && id != keyID {
				continue
			}
			if err := tx.Where("key_hash = ?", r.KeyHash).Delete(&merchantKeyRow{}).Error; err != nil {
				return dbError("revoke key", "merchant", err)
			}
			if err := addMerchantAudit(tx, merchantID, models.MerchantAuditEvent{Type: models.AuditKeyRevoked,
				Actor: models.AuditActorMerchant, ActorKeyID: callerKeyID, KeyID: id, Detail: "revoked before its grace period ended"}); err != nil {
				return err
			}
			revoked = append(revoked, id)
		}
		if keyID != "" && len(revoked) == 0 {
			return models.NotFound("merchant key")
		}
		return nil
	})
	return revoked, err
}

// ResetMerchantKeys is the operator's answer to a takeover: every key of the
// merchant, current and retired, stops working and a new current key is
// returned, this once, to hand to the merchant.
func (s *Store) ResetMerchantKeys(ctx context.Context, merchantID string) (string, error) {
	key := newAPIKey()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row merchantRow
		if err := tx.Where("id = ?", merchantID).Take(&row).Error; err != nil {
			return dbError("reset keys", "merchant", err)
		}
		if err := tx.Where("merchant_id = ?", merchantID).Delete(&merchantKeyRow{}).Error; err != nil {
			return dbError("reset keys", "merchant", err)
		}
		if err := replaceCurrentKey(tx, row, key); err != nil {
			return err
		}
		return addMerchantAudit(tx, merchantID, models.MerchantAuditEvent{Type: models.AuditKeysReset,
			Actor: models.AuditActorOperator, KeyID: models.MerchantKeyID(hashAPIKey(key)),
			Detail: "every previous key revoked by an operator"})
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// MerchantKeys lists the merchant's working keys: the current one first,
// then the rotated-away ones still in their grace period.
func (s *Store) MerchantKeys(ctx context.Context, merchantID string) ([]models.MerchantKey, error) {
	var row merchantRow
	if err := s.db.WithContext(ctx).Where("id = ?", merchantID).Take(&row).Error; err != nil {
		return nil, dbError("merchant keys", "merchant", err)
	}
	var rows []merchantKeyRow
	if err := s.db.WithContext(ctx).Where("merchant_id = ? AND expires_at > ?", merchantID, now()).
		Order("expires_at DESC").Find(&rows).Error; err != nil {
		return nil, dbError("merchant keys", "merchant", err)
	}
	keys := []models.MerchantKey{{ID: models.MerchantKeyID(row.APIKeyHash), Current: true}}
	for _, r := range rows {
		keys = append(keys, models.MerchantKey{ID: models.MerchantKeyID(r.KeyHash), ExpiresAt: utcPtr(r.ExpiresAt)})
	}
	return keys, nil
}

// MerchantAuditEvents lists the merchant's audit trail, newest first.
func (s *Store) MerchantAuditEvents(ctx context.Context, merchantID string) ([]models.MerchantAuditEvent, error) {
	var rows []merchantAuditRow
	if err := s.db.WithContext(ctx).Where("merchant_id = ?", merchantID).
		Order("created_at DESC").Order("id DESC").Limit(maxListLimit).Find(&rows).Error; err != nil {
		return nil, dbError("merchant audit", "merchant", err)
	}
	return auditEvents(rows), nil
}

// UnannouncedMerchantAudit lists the merchant's audit events its webhook has
// not been told of yet, oldest first.
func (s *Store) UnannouncedMerchantAudit(ctx context.Context, merchantID string) ([]models.MerchantAuditEvent, error) {
	var rows []merchantAuditRow
	if err := s.db.WithContext(ctx).Where("merchant_id = ? AND announced = ?", merchantID, false).
		Order("created_at ASC").Order("id ASC").Limit(maxListLimit).Find(&rows).Error; err != nil {
		return nil, dbError("unannounced merchant audit", "merchant", err)
	}
	return auditEvents(rows), nil
}

// MarkMerchantAuditAnnounced records that the merchant was told of the event.
func (s *Store) MarkMerchantAuditAnnounced(ctx context.Context, merchantID, eventID string) error {
	err := s.db.WithContext(ctx).Model(&merchantAuditRow{}).
		Where("id = ? AND merchant_id = ?", eventID, merchantID).Update("announced", true).Error
	return dbError("mark merchant audit announced", "merchant", err)
}

func auditEvents(rows []merchantAuditRow) []models.MerchantAuditEvent {
	out := make([]models.MerchantAuditEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, models.MerchantAuditEvent{ID: r.ID, Type: r.Type, Actor: r.Actor, ActorKeyID: r.ActorKeyID,
			KeyID: r.KeyID, Detail: r.Detail, CreatedAt: r.CreatedAt.UTC()})
	}
	return out
}
