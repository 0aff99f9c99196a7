package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// stripeEventRow remembers a Stripe webhook event that was handled, so a
// redelivery (Stripe delivers at least once) has no second effect.
type stripeEventRow struct {
	ID        string `gorm:"primaryKey;size:255"`
	Type      string `gorm:"size:128;not null"`
	OrderID   string `gorm:"size:64;not null"`
	CreatedAt time.Time
}

func (stripeEventRow) TableName() string { return "stripe_events" }

// ClaimStripeEvent records an event id; false means it was recorded before
// and must not be acted on again.
func (s *Store) ClaimStripeEvent(ctx context.Context, id, typ, orderID string) (bool, error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&stripeEventRow{ID: id, Type: typ, OrderID: orderID, CreatedAt: now()})
	if res.Error != nil {
		return false, dbError("claim stripe event", "stripe event", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseStripeEvent forgets a claimed event whose handling failed, so
// Stripe's redelivery is acted on.
func (s *Store) ReleaseStripeEvent(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&stripeEventRow{}).Error
	return dbError("release stripe event", "stripe event", err)
}

// OrderIDByPaymentIntent finds the order a PaymentIntent belongs to, for
// Stripe objects (disputes) that do not carry the order in their metadata.
func (s *Store) OrderIDByPaymentIntent(ctx context.Context, intentID string) (string, error) {
	if intentID == "" {
		return "", models.NotFound("order")
	}
	var row orderRow
	err := s.db.WithContext(ctx).Select("id").Where("payment_intent_id = ?", intentID).Take(&row).Error
	if err != nil {
		return "", dbError("order by payment intent", "order", err)
	}
	return row.ID, nil
}

// MarkDisputed flags an order whose payment the buyer's bank disputes, with
// an audit event. Marking it again changes nothing.
func (s *Store) MarkDisputed(ctx context.Context, orderID, detail string) (models.Order, error) {
	var out models.Order
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", orderID).Take(&row).Error; err != nil {
			return err
		}
		if !row.Disputed {
			t := now()
			if err := tx.Model(&orderRow{}).Where("id = ?", orderID).
				Updates(map[string]any{"disputed": true, "updated_at": t}).Error; err != nil {
				return err
			}
			if err := addNote(tx, row, "stripe", detail, t); err != nil {
				return err
			}
		}
		var err error
		out, err = s.order(tx, orderID)
		return err
	})
	if err != nil {
		return models.Order{}, dbError("mark disputed", "order", err)
	}
	return out, nil
}

// AddOrderNote appends an audit event recording a fact about the order (a
// refund Stripe confirmed) without changing its status.
func (s *Store) AddOrderNote(ctx context.Context, orderID, actor, detail string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		if err := tx.Select("id", "status").Where("id = ?", orderID).Take(&row).Error; err != nil {
			return err
		}
		return addNote(tx, row, actor, detail, now())
	})
	return dbError("add order note", "order", err)
}
