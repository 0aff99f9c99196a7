package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
)

// merchantKeyRow is an API key that still opens the account after it was
// rotated away: the merchant's current key lives in merchants.api_key_hash,
// retired ones here until expires_at, so a deploy of the new key can roll out
// while the old one still works.
type merchantKeyRow struct {
	KeyHash    string    `gorm:"primaryKey;size:64"`
	MerchantID string    `gorm:"size:64;not null;index:idx_merchant_keys_merchant"`
	CreatedAt  time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null"`
}

func (merchantKeyRow) TableName() string { return "merchant_keys" }

// MaxKeyGrace bounds how long a rotated-away key keeps working.
const MaxKeyGrace = 30 * 24 * time.Hour

// webhookSecretAD binds a sealed webhook secret to its merchant, so a value
// copied onto another merchant's row does not open.
func webhookSecretAD(merchantID string) string { return "merchant:" + merchantID + ":webhook_secret" }

// sealWebhookSecret encrypts a merchant's webhook signing secret for storage.
func (s *Store) sealWebhookSecret(merchantID, secret string) (string, error) {
	return s.ring.SealString(secret, webhookSecretAD(merchantID))
}

// openWebhookSecret decrypts a stored webhook secret. Rows written before
// secrets were encrypted hold the secret itself ("whsec_…") and are read as is.
func (s *Store) openWebhookSecret(merchantID, stored string) (string, error) {
	if stored == "" || strings.HasPrefix(stored, webhookSecretPrefix) {
		return stored, nil
	}
	secret, err := s.ring.OpenString(stored, webhookSecretAD(merchantID))
	if err != nil {
		return "", errors.New("store: webhook secret cannot be decrypted: " + err.Error())
	}
	return secret, nil
}

// merchantFromRow is toModel with the webhook secret decrypted.
func (s *Store) merchantFromRow(r merchantRow) (models.Merchant, error) {
	m := r.toModel()
	secret, err := s.openWebhookSecret(r.ID, r.WebhookSecret)
	if err != nil {
		return models.Merchant{}, err
	}
	m.WebhookSecret = secret
	return m, nil
}

// retiredKeyMerchant finds the merchant of a rotated-away key still inside
// its grace period.
func (s *Store) retiredKeyMerchant(ctx context.Context, keyHash string) (merchantRow, error) {
	var k merchantKeyRow
	err := s.db.WithContext(ctx).Where("key_hash = ? AND expires_at > ?", keyHash, now()).Take(&k).Error
	if err != nil {
		return merchantRow{}, dbError("merchant key", "merchant", err)
	}
	var row merchantRow
	if err := s.db.WithContext(ctx).Where("id = ?", k.MerchantID).Take(&row).Error; err != nil {
		return merchantRow{}, dbError("merchant", "merchant", err)
	}
	return row, nil
}

// RotateMerchantKey issues a new API key for the merchant and keeps the
// current one valid for grace (capped at MaxKeyGrace; 0 retires it at once).
// The new key is returned this once; only its hash is stored.
func (s *Store) RotateMerchantKey(ctx context.Context, merchantID string, grace time.Duration) (string, time.Time, error) {
	grace = min(max(grace, 0), MaxKeyGrace)
	key := newAPIKey()
	t := now()
	expires := t.Add(grace)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row merchantRow
		if err := tx.Where("id = ?", merchantID).Take(&row).Error; err != nil {
			return dbError("rotate key", "merchant", err)
		}
		if grace > 0 {
			if err := tx.Create(&merchantKeyRow{KeyHash: row.APIKeyHash, MerchantID: merchantID, CreatedAt: t, ExpiresAt: expires}).Error; err != nil {
				return dbError("retire key", "merchant", err)
			}
		}
		res := tx.Model(&merchantRow{}).Where("id = ? AND api_key_hash = ?", merchantID, row.APIKeyHash).
			Update("api_key_hash", hashAPIKey(key))
		if res.Error != nil {
			return dbError("rotate key", "merchant", res.Error)
		}
		if res.RowsAffected != 1 {
			return models.Conflict("key_rotation_conflict", "the key was rotated concurrently; try again")
		}
		return nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return key, expires, nil
}

// SetMerchantWebhook sets the merchant's webhook URL and issues a new signing
// secret, stored encrypted. The secret is returned this once.
func (s *Store) SetMerchantWebhook(ctx context.Context, merchantID, webhookURL string) (models.Merchant, string, error) {
	secret := newWebhookSecret()
	sealed, err := s.sealWebhookSecret(merchantID, secret)
	if err != nil {
		return models.Merchant{}, "", err
	}
	res := s.db.WithContext(ctx).Model(&merchantRow{}).Where("id = ?", merchantID).
		Updates(map[string]any{"webhook_url": webhookURL, "webhook_secret": sealed})
	if res.Error != nil {
		return models.Merchant{}, "", dbError("set webhook", "merchant", res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Merchant{}, "", models.NotFound("merchant")
	}
	m, err := s.Merchant(ctx, merchantID)
	return m, secret, err
}

// OrderPage asks for one page of a merchant's orders, newest first.
type OrderPage struct {
	MerchantID    string
	Status        models.OrderStatus // "" for every status
	CreatedAfter  time.Time          // zero: no lower bound (exclusive)
	CreatedBefore time.Time          // zero: no upper bound (exclusive)
	// After continues a listing after this order (created_at, id), as the
	// previous page's last order.
	AfterCreatedAt time.Time
	AfterID        string
	Limit          int
}

// MerchantOrdersPage lists a merchant's orders newest first, by keyset on
// (created_at, id) so pages stay stable while new orders arrive. more tells
// whether another page follows.
func (s *Store) MerchantOrdersPage(ctx context.Context, p OrderPage) (orders []models.Order, more bool, err error) {
	return s.ordersPage(s.db.WithContext(ctx).Where("merchant_id = ?", p.MerchantID), p, "list merchant orders")
}

// BuyerOrdersPage lists one buyer's orders, newest first, paged like
// MerchantOrdersPage; p.MerchantID is ignored. Only that buyer's rows are read.
func (s *Store) BuyerOrdersPage(ctx context.Context, buyerID string, p OrderPage) (orders []models.Order, more bool, err error) {
	if buyerID == "" {
		return nil, false, models.Invalid("invalid_buyer", "buyer id is required")
	}
	return s.ordersPage(s.db.WithContext(ctx).Where("buyer_id = ?", buyerID), p, "list buyer orders")
}

// ordersPage applies p's filters and keyset to q, whose owner filter is set.
func (s *Store) ordersPage(q *gorm.DB, p OrderPage, op string) (orders []models.Order, more bool, err error) {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	if p.Status != "" {
		q = q.Where("status = ?", string(p.Status))
	}
	if !p.CreatedAfter.IsZero() {
		q = q.Where("created_at > ?", p.CreatedAfter.UTC())
	}
	if !p.CreatedBefore.IsZero() {
		q = q.Where("created_at < ?", p.CreatedBefore.UTC())
	}
	if p.AfterID != "" {
		at := p.AfterCreatedAt.UTC()
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, p.AfterID)
	}
	var rows []orderRow
	if err := q.Order("created_at DESC").Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, dbError(op, "order", err)
	}
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	orders = make([]models.Order, 0, len(rows))
	for _, r := range rows {
		o, err := s.rowToOrder(r)
		if err != nil {
			return nil, false, err
		}
		orders = append(orders, o)
	}
	return orders, more, nil
}
