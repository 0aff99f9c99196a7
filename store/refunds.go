package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// refundRow is one refund request of an order. The order's refunded_minor is
// the sum of its pending and succeeded rows; both change in one transaction,
// so concurrent refunds can never add up to more than was captured.
type refundRow struct {
	OrderID        string `gorm:"primaryKey;size:64"`
	RequestKey     string `gorm:"primaryKey;size:255"`
	AmountMinor    int64  `gorm:"not null"`
	Reason         string `gorm:"not null"`
	Actor          string `gorm:"not null"`
	Status         string `gorm:"size:16;not null"`
	StripeRefundID string `gorm:"size:255;not null"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (refundRow) TableName() string { return "refunds" }

// ReserveRefund counts a refund against the order's captured amount before
// Stripe is asked, under the order's row lock. The same key again returns the
// refund it made (a retry), unless the amount differs: then the key was
// reused for another request. Amount zero reserves whatever is left.
func (s *Store) ReserveRefund(ctx context.Context, r models.NewRefund) (models.Refund, models.Order, error) {
	if r.Key == "" {
		return models.Refund{}, models.Order{}, models.Invalid("invalid_refund", "a refund key is required")
	}
	var out models.Refund
	var order models.Order
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", r.OrderID).Take(&row).Error; err != nil {
			return err
		}
		var existing refundRow
		err := tx.Where("order_id = ? AND request_key = ?", r.OrderID, r.Key).Take(&existing).Error
		switch {
		case err == nil:
			if r.AmountMinor != 0 && existing.AmountMinor != r.AmountMinor {
				return models.Invalid("idempotency_key_reused", "this Idempotency-Key was used for a refund of another amount")
			}
			out = refundFromRow(existing, row.Currency)
			order, err = s.rowToOrder(row)
			return err
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		o, err := s.rowToOrder(row)
		if err != nil {
			return err
		}
		amount := r.AmountMinor
		if amount == 0 {
			amount = o.CapturedMinor - o.RefundedMinor
			if amount <= 0 && o.CapturedMinor > 0 {
				return models.Conflict("already_refunded", "order %s is already fully refunded", o.ID)
			}
		}
		if err := models.CheckRefund(o, amount); err != nil {
			return err
		}
		t := now()
		nr := refundRow{OrderID: r.OrderID, RequestKey: r.Key, AmountMinor: amount, Reason: r.Reason, Actor: r.Actor,
			Status: string(models.RefundPending), CreatedAt: t, UpdatedAt: t}
		if err := tx.Create(&nr).Error; err != nil {
			return err
		}
		if err := tx.Model(&orderRow{}).Where("id = ?", r.OrderID).Updates(map[string]any{
			"refunded_minor": gorm.Expr("refunded_minor + ?", amount), "updated_at": t,
		}).Error; err != nil {
			return err
		}
		if err := addNote(tx, row, r.Actor, fmt.Sprintf("refund of %d %s requested", amount, row.Currency), t); err != nil {
			return err
		}
		out = refundFromRow(nr, row.Currency)
		order, err = s.order(tx, r.OrderID)
		return err
	})
	if err != nil {
		return models.Refund{}, models.Order{}, dbError("reserve refund", "order", err)
	}
	return out, order, nil
}

// FinishRefund records Stripe's final answer to a reserved refund: succeeded,
// or refused (it stops counting against the captured amount).
func (s *Store) FinishRefund(ctx context.Context, orderID, key, stripeRefundID string, succeeded bool) (models.Refund, models.Order, error) {
	status := models.RefundSucceeded
	if !succeeded {
		status = models.RefundFailed
	}
	return s.RecordStripeRefund(ctx, orderID, key, stripeRefundID, status)
}

// RecordStripeRefund records where a reserved refund is at Stripe. A refund
// moves only forward: pending → succeeded → failed (Stripe lets a card
// refund fail after it succeeded), and a failed one is final; anything else
// changes nothing, so late or repeated answers are harmless. A failed refund
// stops counting against the captured amount. The Stripe refund id is kept
// from the first answer that names one.
func (s *Store) RecordStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, error) {
	rf, o, _, err := s.MoveStripeRefund(ctx, orderID, key, stripeRefundID, status)
	return rf, o, err
}

// MoveStripeRefund is RecordStripeRefund that also answers the refund's
// status before the write, read under the order's row lock: of writers
// racing with the same news, exactly one sees the refund move.
func (s *Store) MoveStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, models.RefundStatus, error) {
	var out models.Refund
	var order models.Order
	var before models.RefundStatus
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", orderID).Take(&row).Error; err != nil {
			return err
		}
		var rf refundRow
		if err := tx.Where("order_id = ? AND request_key = ?", orderID, key).Take(&rf).Error; err != nil {
			return err
		}
		before = models.RefundStatus(rf.Status)
		if err := recordRefundStatus(tx, row, &rf, stripeRefundID, status); err != nil {
			return err
		}
		out = refundFromRow(rf, row.Currency)
		var err error
		order, err = s.order(tx, orderID)
		return err
	})
	if err != nil {
		return models.Refund{}, models.Order{}, "", dbError("record refund", "refund", err)
	}
	return out, order, before, nil
}

// RecordStripeRefundByID is RecordStripeRefund for a refund known by its
// Stripe id (a Stripe webhook about it). A refund the ledger has not linked
// to that id is not found.
func (s *Store) RecordStripeRefundByID(ctx context.Context, orderID, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, error) {
	if stripeRefundID == "" {
		return models.Refund{}, models.Order{}, models.NotFound("refund")
	}
	var rf refundRow
	err := s.db.WithContext(ctx).Where("order_id = ? AND stripe_refund_id = ?", orderID, stripeRefundID).Take(&rf).Error
	if err != nil {
		return models.Refund{}, models.Order{}, dbError("refund by stripe id", "refund", err)
	}
	return s.RecordStripeRefund(ctx, orderID, rf.RequestKey, stripeRefundID, status)
}

// refundRank orders refund statuses: a refund only moves up.
var refundRank = map[string]int{string(models.RefundPending): 0, string(models.RefundSucceeded): 1, string(models.RefundFailed): 2}

func recordRefundStatus(tx *gorm.DB, row orderRow, rf *refundRow, stripeRefundID string, status models.RefundStatus) error {
	next, ok := refundRank[string(status)]
	if !ok {
		return models.Invalid("invalid_refund_status", "unknown refund status %q", status)
	}
	moves := next > refundRank[rf.Status]
	linked := rf.StripeRefundID == "" && stripeRefundID != ""
	if !moves && !linked {
		return nil
	}
	t := now()
	updates := map[string]any{"updated_at": t}
	if linked {
		rf.StripeRefundID = stripeRefundID
		updates["stripe_refund_id"] = stripeRefundID
	}
	if moves {
		detail := fmt.Sprintf("refund of %d %s done", rf.AmountMinor, row.Currency)
		if status == models.RefundFailed {
			detail = fmt.Sprintf("refund of %d %s failed at the payment service; the amount is no longer counted as refunded", rf.AmountMinor, row.Currency)
			if rf.Status == string(models.RefundPending) && stripeRefundID == "" {
				detail = fmt.Sprintf("refund of %d %s refused by the payment service", rf.AmountMinor, row.Currency)
			}
			if err := tx.Model(&orderRow{}).Where("id = ?", row.ID).Updates(map[string]any{
				"refunded_minor": gorm.Expr("refunded_minor - ?", rf.AmountMinor), "updated_at": t,
			}).Error; err != nil {
				return err
			}
		}
		rf.Status = string(status)
		updates["status"] = rf.Status
		if err := addNote(tx, row, models.ActorSystem, detail, t); err != nil {
			return err
		}
	}
	rf.UpdatedAt = t
	return tx.Model(&refundRow{}).Where("order_id = ? AND request_key = ?", rf.OrderID, rf.RequestKey).Updates(updates).Error
}

// Refunds lists an order's refunds, oldest first.
func (s *Store) Refunds(ctx context.Context, orderID string) ([]models.Refund, error) {
	var o orderRow
	if err := s.db.WithContext(ctx).Select("currency").Where("id = ?", orderID).Take(&o).Error; err != nil {
		return nil, dbError("refunds", "order", err)
	}
	var rows []refundRow
	if err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("created_at ASC").Find(&rows).Error; err != nil {
		return nil, dbError("refunds", "refund", err)
	}
	out := make([]models.Refund, len(rows))
	for i, r := range rows {
		out[i] = refundFromRow(r, o.Currency)
	}
	return out, nil
}

func refundFromRow(r refundRow, currency string) models.Refund {
	return models.Refund{OrderID: r.OrderID, Key: r.RequestKey, AmountMinor: r.AmountMinor, Currency: currency,
		Reason: r.Reason, Actor: r.Actor, Status: models.RefundStatus(r.Status), StripeRefundID: r.StripeRefundID,
		CreatedAt: r.CreatedAt.UTC()}
}

// addNote appends an audit event that records a fact about the order without
// changing its status (a refund, a dispute).
func addNote(tx *gorm.DB, row orderRow, actor, detail string, t time.Time) error {
	return tx.Create(&orderEventRow{OrderID: row.ID, FromStatus: row.Status, ToStatus: row.Status,
		Actor: actor, Detail: detail, CreatedAt: t}).Error
}
