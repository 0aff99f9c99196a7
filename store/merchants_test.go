package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestMerchants(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, key, err := s.CreateMerchant(ctx, "Shop", "https://shop.example/hook")
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^mk_[0-9a-f]{32}$`), key)
		require.Regexp(t, regexp.MustCompile(`^whsec_[0-9a-f]{64}$`), m.WebhookSecret)
		require.True(t, models.ValidID(m.ID), m.ID)
		require.True(t, m.Active)

		sum := sha256.Sum256([]byte(key))
		require.Equal(t, hex.EncodeToString(sum[:]), m.APIKeyHash)

		// The key itself must appear in no column.
		var leaks int64
		require.NoError(t, s.DB().Table("merchants").
			Where("api_key_hash = ? OR name = ? OR webhook_url = ? OR webhook_secret = ? OR id = ?", key, key, key, key, key).
			Count(&leaks).Error)
		require.Zero(t, leaks)
		var stored string
		require.NoError(t, s.DB().Table("merchants").Select("api_key_hash").Where("id = ?", m.ID).Scan(&stored).Error)
		require.Equal(t, m.APIKeyHash, stored)

		got, err := s.MerchantByAPIKey(ctx, key)
		require.NoError(t, err)
		require.Equal(t, m, got)

		got, err = s.Merchant(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, m, got)

		_, key2, err := s.CreateMerchant(ctx, "Other", "")
		require.NoError(t, err)
		require.NotEqual(t, key, key2)

		for _, bad := range []string{"", key[:len(key)-1] + "x", "mk_", m.APIKeyHash, "sk_" + key[3:]} {
			_, err := s.MerchantByAPIKey(ctx, bad)
			requireKind(t, err, models.KindNotFound, "not_found")
		}
		_, err = s.Merchant(ctx, "mer_missing")
		requireKind(t, err, models.KindNotFound, "not_found")
	})
}
