package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/buybutton/checkout/models"
)

// webhookAttemptRow is one try at delivering one event to a merchant. Rows
// are appended by the delivering activity, never updated: the log is what
// happened, including attempts whose outcome the workflow later retried.
type webhookAttemptRow struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	DeliveryID string `gorm:"size:128;not null;index:idx_webhook_attempts_delivery"`
	OrderID    string `gorm:"size:64;not null;index:idx_webhook_attempts_order"`
	MerchantID string `gorm:"size:64;not null"`
	EventType  string `gorm:"size:64;not null"`
	Attempt    int64  `gorm:"not null"`
	StatusCode int64  `gorm:"not null"`
	LatencyMS  int64  `gorm:"not null"`
	Outcome    string `gorm:"size:32;not null"`
	Error      string `gorm:"not null"`
	CreatedAt  time.Time
}

func (webhookAttemptRow) TableName() string { return "webhook_attempts" }

// RecordWebhookAttempt appends one attempt; its number is one past the
// delivery's previous attempts, counting replays.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a models.WebhookAttempt) (models.WebhookAttempt, error) {
	row := webhookAttemptRow{
		DeliveryID: a.DeliveryID, OrderID: a.OrderID, MerchantID: a.MerchantID, EventType: a.EventType,
		StatusCode: int64(a.StatusCode), LatencyMS: a.Latency.Milliseconds(), Outcome: string(a.Outcome),
		Error: truncate(a.Error, 500), CreatedAt: now(),
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&webhookAttemptRow{}).Where("delivery_id = ?", a.DeliveryID).Count(&n).Error; err != nil {
			return err
		}
		row.Attempt = n + 1
		return tx.Create(&row).Error
	})
	if err != nil {
		return models.WebhookAttempt{}, dbError("record webhook attempt", "webhook delivery", err)
	}
	return row.toModel(), nil
}

// WebhookDeliveries returns an order's deliveries, each with its attempts in
// order, oldest delivery first.
func (s *Store) WebhookDeliveries(ctx context.Context, orderID string) ([]models.WebhookDelivery, error) {
	var rows []webhookAttemptRow
	if err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("id").Find(&rows).Error; err != nil {
		return nil, dbError("webhook deliveries", "webhook delivery", err)
	}
	var out []models.WebhookDelivery
	index := map[string]int{}
	for _, r := range rows {
		i, ok := index[r.DeliveryID]
		if !ok {
			i = len(out)
			index[r.DeliveryID] = i
			out = append(out, models.WebhookDelivery{ID: r.DeliveryID, OrderID: r.OrderID, EventType: r.EventType})
		}
		out[i].Attempts = append(out[i].Attempts, r.toModel())
	}
	for i := range out {
		out[i].Summarize()
	}
	return out, nil
}

// WebhookDelivery returns one delivery of an order (NotFound otherwise).
func (s *Store) WebhookDelivery(ctx context.Context, orderID, deliveryID string) (models.WebhookDelivery, error) {
	all, err := s.WebhookDeliveries(ctx, orderID)
	if err != nil {
		return models.WebhookDelivery{}, err
	}
	for _, d := range all {
		if d.ID == deliveryID {
			return d, nil
		}
	}
	return models.WebhookDelivery{}, models.NotFound("webhook delivery")
}

func (r webhookAttemptRow) toModel() models.WebhookAttempt {
	return models.WebhookAttempt{
		DeliveryID: r.DeliveryID, OrderID: r.OrderID, MerchantID: r.MerchantID, EventType: r.EventType,
		Attempt: int(r.Attempt), StatusCode: int(r.StatusCode), Latency: time.Duration(r.LatencyMS) * time.Millisecond,
		Outcome: models.WebhookOutcome(r.Outcome), Error: r.Error, At: r.CreatedAt.UTC(),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
