package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
)

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

// SetMerchantWebhook sets the merchant's webhook URL and issues a new signing
// secret, stored encrypted, and records the change in the merchant's audit
// trail as made by actorKeyID. The secret is returned this once.
func (s *Store) SetMerchantWebhook(ctx context.Context, merchantID, actorKeyID, webhookURL string) (models.Merchant, string, error) {
	secret := newWebhookSecret()
	sealed, err := s.sealWebhookSecret(merchantID, secret)
	if err != nil {
		return models.Merchant{}, "", err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&merchantRow{}).Where("id = ?", merchantID).
			Updates(map[string]any{"webhook_url": webhookURL, "webhook_secret": sealed})
		if res.Error != nil {
			return dbError("set webhook", "merchant", res.Error)
		}
		if res.RowsAffected == 0 {
			return models.NotFound("merchant")
		}
		return addMerchantAudit(tx, merchantID, models.MerchantAuditEvent{Type: models.AuditWebhookUpdated,
			Actor: models.AuditActorMerchant, ActorKeyID: actorKeyID, Detail: "new webhook URL and signing secret"})
	})
	if err != nil {
		return models.Merchant{}, "", err
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
	orders, err = s.rowsToOrders(rows)
	return orders, more, err
}
