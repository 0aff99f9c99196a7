package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

type fakeDeliveryLog struct{ attempts []models.WebhookAttempt }

func (f *fakeDeliveryLog) RecordWebhookAttempt(_ context.Context, a models.WebhookAttempt) (models.WebhookAttempt, error) {
	f.attempts = append(f.attempts, a)
	return a, nil
}

func TestNotifyMerchantLogsEveryAttempt(t *testing.T) {
	cases := []struct {
		name    string
		sendErr error
		want    models.WebhookOutcome
	}{
		{"2xx", nil, models.WebhookDelivered},
		{"5xx", models.Errorf(models.KindUnavailable, "webhook_failed", "status 503"), models.WebhookFailed},
		{"4xx", models.Invalid("webhook_rejected", "status 404"), models.WebhookRejected},
		{"network", errors.New("connection refused"), models.WebhookFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			log := &fakeDeliveryLog{}
			a.Deliveries = log
			d.store.orders["ord_1"] = models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusAuthorized}
			d.notifier.err = tc.sendErr
			_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.created"})
			assert.Equal(t, tc.sendErr != nil, err != nil, "%v", err)
			require.Len(t, log.attempts, 1)
			at := log.attempts[0]
			assert.Equal(t, tc.want, at.Outcome)
			assert.Equal(t, "evt_ord_1_order.created", at.DeliveryID)
			assert.Equal(t, "mer_1", at.MerchantID)
		})
	}
}
