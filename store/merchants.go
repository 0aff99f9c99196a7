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
	row := merchantRow{
		ID:            newID(merchantIDPrefix),
		Name:          name,
		Active:        true,
		APIKeyHash:    hashAPIKey(key),
		WebhookURL:    webhookURL,
		WebhookSecret: newWebhookSecret(),
		CreatedAt:     now(),
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.Merchant{}, "", dbError("create merchant", "merchant", err)
	}
	return row.toModel(), key, nil
}

// MerchantByAPIKey finds the merchant owning apiKey. A wrong, malformed or
// unknown key is a not-found, so callers cannot tell them apart.
func (s *Store) MerchantByAPIKey(ctx context.Context, apiKey string) (models.Merchant, error) {
	if !strings.HasPrefix(apiKey, apiKeyPrefix) || len(apiKey) > 128 {
		return models.Merchant{}, models.NotFound("merchant")
	}
	var row merchantRow
	err := s.db.WithContext(ctx).Where("api_key_hash = ?", hashAPIKey(apiKey)).Take(&row).Error
	if err != nil {
		return models.Merchant{}, dbError("merchant by api key", "merchant", err)
	}
	return row.toModel(), nil
}

// Merchant returns the merchant with the given id.
func (s *Store) Merchant(ctx context.Context, id string) (models.Merchant, error) {
	var row merchantRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return models.Merchant{}, dbError("merchant", "merchant", err)
	}
	return row.toModel(), nil
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
