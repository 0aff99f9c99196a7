package store

import (
	"context"
	"strings"

	"github.com/buybutton/checkout/models"
)

// CreateMerchant registers an active merchant and returns its API key. The key
// is shown this once: only its SHA-256 hash is stored.
func (s *Store) CreateMerchant(ctx context.Context, name, webhookURL string) (models.Merchant, string, error) {
	key := newAPIKey()
	id := newID(merchantIDPrefix)
	secret, err := s.sealWebhookSecret(id, newWebhookSecret())
	if err != nil {
		return models.Merchant{}, "", err
	}
	row := merchantRow{
		ID:            id,
		Name:          name,
		Active:        true,
		APIKeyHash:    hashAPIKey(key),
		WebhookURL:    webhookURL,
		WebhookSecret: secret,
		CreatedAt:     now(),
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.Merchant{}, "", dbError("create merchant", "merchant", err)
	}
	m, err := s.merchantFromRow(row)
	return m, key, err
}

// MerchantByAPIKey finds the merchant owning apiKey, current or in its grace
// period (see AuthenticateMerchantKey).
func (s *Store) MerchantByAPIKey(ctx context.Context, apiKey string) (models.Merchant, error) {
	m, _, err := s.AuthenticateMerchantKey(ctx, apiKey)
	return m, err
}

func validAPIKeyShape(apiKey string) bool {
	return strings.HasPrefix(apiKey, apiKeyPrefix) && len(apiKey) <= 128
}

// Merchant returns the merchant with the given id.
func (s *Store) Merchant(ctx context.Context, id string) (models.Merchant, error) {
	var row merchantRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return models.Merchant{}, dbError("merchant", "merchant", err)
	}
	return s.merchantFromRow(row)
}

func (r merchantRow) toModel() models.Merchant {
	return models.Merchant{
		ID:            r.ID,
		Name:          r.Name,
		Active:        r.Active,
		APIKeyHash:    r.APIKeyHash,
		WebhookURL:    r.WebhookURL,
		WebhookSecret: r.WebhookSecret,
		CreatedAt:     r.CreatedAt.UTC(),
	}
}
