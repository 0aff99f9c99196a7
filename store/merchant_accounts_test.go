package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

func keyID(t *testing.T, s *store.Store, key string) string {
	t.Helper()
	_, k, err := s.AuthenticateMerchantKey(ctxT(t), key)
	require.NoError(t, err)
	return k.ID
}

func TestRotateMerchantKeyKeepsOldKeyForGrace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, key1, err := s.CreateMerchant(ctx, "Shop", "")
		require.NoError(t, err)
		id1 := keyID(t, s, key1)

		key2, expires, err := s.RotateMerchantKey(ctx, m.ID, id1, time.Hour)
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now().Add(time.Hour), expires, time.Minute)
		for _, k := range []string{key1, key2} {
			got, err := s.MerchantByAPIKey(ctx, k)
			require.NoError(t, err)
			assert.Equal(t, m.ID, got.ID)
		}
		_, k1, err := s.AuthenticateMerchantKey(ctx, key1)
		require.NoError(t, err)
		assert.False(t, k1.Current, "a rotated-away key is not current")
		require.NotNil(t, k1.ExpiresAt)

		// Only the current key rotates.
		_, _, err = s.RotateMerchantKey(ctx, m.ID, id1, 0)
		assert.ErrorIs(t, err, models.ErrForbidden)

		// A grace already over: the key no longer opens the account.
		key3, _, err := s.RotateMerchantKey(ctx, m.ID, keyID(t, s, key2), 0)
		require.NoError(t, err)
		_, err = s.MerchantByAPIKey(ctx, key2)
		assert.ErrorIs(t, err, models.ErrNotFound)
		require.NoError(t, s.DB().Exec("UPDATE merchant_keys SET expires_at = ?", time.Now().Add(-time.Second).UTC()).Error)
		_, err = s.MerchantByAPIKey(ctx, key1)
		assert.ErrorIs(t, err, models.ErrNotFound, "expired grace")
		_, err = s.MerchantByAPIKey(ctx, key3)
		assert.NoError(t, err)

		_, _, err = s.RotateMerchantKey(ctx, "mer_unknown", id1, time.Hour)
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

func TestRevokeAndResetMerchantKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, key1, err := s.CreateMerchant(ctx, "Shop", "")
		require.NoError(t, err)
		id1 := keyID(t, s, key1)
		key2, _, err := s.RotateMerchantKey(ctx, m.ID, id1, time.Hour)
		require.NoError(t, err)
		id2 := keyID(t, s, key2)

		_, err = s.RevokeMerchantKey(ctx, m.ID, id1, id1)
		assert.ErrorIs(t, err, models.ErrForbidden, "a retired key cannot revoke")
		_, err = s.RevokeMerchantKey(ctx, m.ID, id2, id2)
		assert.ErrorIs(t, err, models.ErrConflict, "the current key is not revoked")
		revoked, err := s.RevokeMerchantKey(ctx, m.ID, id2, id1)
		require.NoError(t, err)
		assert.Equal(t, []string{id1}, revoked)
		_, err = s.MerchantByAPIKey(ctx, key1)
		assert.ErrorIs(t, err, models.ErrNotFound)
		_, err = s.RevokeMerchantKey(ctx, m.ID, id2, id1)
		assert.ErrorIs(t, err, models.ErrNotFound)

		key3, err := s.ResetMerchantKeys(ctx, m.ID)
		require.NoError(t, err)
		_, err = s.MerchantByAPIKey(ctx, key2)
		assert.ErrorIs(t, err, models.ErrNotFound)
		keys, err := s.MerchantKeys(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, []models.MerchantKey{{ID: keyID(t, s, key3), Current: true}}, keys)

		events, err := s.MerchantAuditEvents(ctx, m.ID)
		require.NoError(t, err)
		var types []string
		for _, e := range events {
			types = append(types, e.Type)
		}
		assert.Equal(t, []string{models.AuditKeysReset, models.AuditKeyRevoked, models.AuditKeyRotated}, types)
	})
}

func TestWebhookSecretIsStoredEncrypted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m, _, err := s.CreateMerchant(ctx, "Shop", "")
		require.NoError(t, err)
		got, secret, err := s.SetMerchantWebhook(ctx, m.ID, "", "https://shop.example/hooks")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(secret, "whsec_"))
		assert.Equal(t, secret, got.WebhookSecret)
		assert.Equal(t, "https://shop.example/hooks", got.WebhookURL)

		var stored string
		require.NoError(t, s.DB().Raw("SELECT webhook_secret FROM merchants WHERE id = ?", m.ID).Scan(&stored).Error)
		assert.NotContains(t, stored, secret)
		assert.True(t, strings.HasPrefix(stored, "v1:"), stored)

		// Sealed for this merchant only: copied onto another row it does not open.
		other, _, err := s.CreateMerchant(ctx, "Other", "")
		require.NoError(t, err)
		require.NoError(t, s.DB().Exec("UPDATE merchants SET webhook_secret = ? WHERE id = ?", stored, other.ID).Error)
		_, err = s.Merchant(ctx, other.ID)
		assert.Error(t, err)

		_, _, err = s.SetMerchantWebhook(ctx, "mer_unknown", "", "https://x.example")
		assert.ErrorIs(t, err, models.ErrNotFound)
	})
}

func TestWebhookDeliveryLog(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		for _, a := range []models.WebhookAttempt{
			{DeliveryID: "evt_o1_order.created", OrderID: "o1", EventType: "order.created", StatusCode: 503, Outcome: models.WebhookFailed, Latency: 12 * time.Millisecond},
			{DeliveryID: "evt_o1_order.created", OrderID: "o1", EventType: "order.created", StatusCode: 200, Outcome: models.WebhookDelivered},
			{DeliveryID: "evt_o1_order.cancelled", OrderID: "o1", EventType: "order.cancelled", StatusCode: 404, Outcome: models.WebhookRejected},
			{DeliveryID: "evt_o2_order.created", OrderID: "o2", EventType: "order.created", StatusCode: 200, Outcome: models.WebhookDelivered},
		} {
			_, err := s.RecordWebhookAttempt(ctx, a)
			require.NoError(t, err)
		}
		ds, err := s.WebhookDeliveries(ctx, "o1")
		require.NoError(t, err)
		require.Len(t, ds, 2)
		assert.Equal(t, "evt_o1_order.created", ds[0].ID)
		assert.Equal(t, models.WebhookDelivered, ds[0].Status)
		require.Len(t, ds[0].Attempts, 2)
		assert.Equal(t, []int{1, 2}, []int{ds[0].Attempts[0].Attempt, ds[0].Attempts[1].Attempt})
		assert.Equal(t, int64(12), ds[0].Attempts[0].LatencyMS)
		assert.Equal(t, models.WebhookRejected, ds[1].Status)

		_, err = s.WebhookDelivery(ctx, "o2", "evt_o1_order.created")
		assert.ErrorIs(t, err, models.ErrNotFound, "a delivery is found only under its own order")
	})
}
