package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// stripeEventRow records a Stripe webhook event in two phases: claimed
// (some delivery is acting on it) and handled (its effects are done). Stripe
// delivers at least once; the handled mark keeps a redelivery from acting
// again, and the claim time lets a redelivery take over an event whose
// handler died between the claim and the mark.
type stripeEventRow struct {
	ID        string `gorm:"primaryKey;size:255"`
	Type      string `gorm:"size:128;not null"`
	OrderID   string `gorm:"size:64;not null"`
	CreatedAt time.Time
	// Nullable only because the columns were added to a table that already
	// had rows; backfillStripeEvents fills them and every claim sets ClaimedAt.
	ClaimedAt *time.Time
	HandledAt *time.Time
}

func (stripeEventRow) TableName() string { return "stripe_events" }

// StripeEventClaim is what a delivery of a Stripe event may do.
type StripeEventClaim int

const (
	// StripeEventClaimed: act on the event, then MarkStripeEventHandled. It
	// is the first delivery, or a redelivery taking over a claim older than
	// the lease.
	StripeEventClaimed StripeEventClaim = iota + 1
	// StripeEventHandled: an earlier delivery finished; do nothing.
	StripeEventHandled
	// StripeEventBusy: another delivery claimed it within the lease and has
	// not finished; answer something Stripe retries.
	StripeEventBusy
)

func (c StripeEventClaim) String() string {
	switch c {
	case StripeEventClaimed:
		return "claimed"
	case StripeEventHandled:
		return "handled"
	case StripeEventBusy:
		return "busy"
	}
	return "unknown"
}

// ClaimStripeEvent claims an event id at time at. A claim older than lease
// that was never marked handled is taken over: its handler most likely died
// (no error path ran to release it). Each step is one atomic statement, so
// of concurrent deliveries exactly one gets StripeEventClaimed.
func (s *Store) ClaimStripeEvent(ctx context.Context, id, typ, orderID string, at time.Time, lease time.Duration) (StripeEventClaim, error) {
	at = at.UTC().Truncate(time.Microsecond)
	db := s.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&stripeEventRow{ID: id, Type: typ, OrderID: orderID, CreatedAt: at, ClaimedAt: &at})
	if res.Error != nil {
		return 0, dbError("claim stripe event", "stripe event", res.Error)
	}
	if res.RowsAffected == 1 {
		return StripeEventClaimed, nil
	}
	// Postgres re-checks the WHERE on the row a concurrent taker just
	// updated, and SQLite runs one writer at a time, so a stale claim is
	// taken over once.
	res = db.Model(&stripeEventRow{}).
		Where("id = ? AND handled_at IS NULL AND claimed_at < ?", id, at.Add(-lease)).
		Update("claimed_at", at)
	if res.Error != nil {
		return 0, dbError("take over stripe event", "stripe event", res.Error)
	}
	if res.RowsAffected == 1 {
		return StripeEventClaimed, nil
	}
	var row stripeEventRow
	err := db.Select("handled_at").Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Released by a failed handler between our statements: Stripe's
		// next attempt finds it free.
		return StripeEventBusy, nil
	}
	if err != nil {
		return 0, dbError("read stripe event", "stripe event", err)
	}
	if row.HandledAt != nil {
		return StripeEventHandled, nil
	}
	return StripeEventBusy, nil
}

// MarkStripeEventHandled records that a claimed event's effects are done,
// so redeliveries are duplicates from now on.
func (s *Store) MarkStripeEventHandled(ctx context.Context, id string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Model(&stripeEventRow{}).
		Where("id = ? AND handled_at IS NULL", id).Update("handled_at", at).Error
	return dbError("mark stripe event handled", "stripe event", err)
}

// ReleaseStripeEvent forgets a claimed event whose handling failed, so
// Stripe's redelivery is acted on at once instead of after the lease. A
// handled event is never forgotten.
func (s *Store) ReleaseStripeEvent(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Where("id = ? AND handled_at IS NULL", id).Delete(&stripeEventRow{}).Error
	return dbError("release stripe event", "stripe event", err)
}

// backfillStripeEvents gives events recorded before the two phases existed
// their claim and handled times. Such a row was only ever kept once its
// handler had acted (or had died, which nothing can tell now), so it stays
// a duplicate as before.
func backfillStripeEvents(tx *gorm.DB) error {
	return tx.Exec("UPDATE stripe_events SET claimed_at = created_at, handled_at = created_at WHERE claimed_at IS NULL").Error
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
	return s.RecordDispute(ctx, orderID, models.DisputeNeedsResponse, detail)
}

// RecordDispute records where the order's dispute is at Stripe, with an
// audit event when that changes: the order stays disputed while the dispute
// is open and once it is lost, and is no longer disputed once it is won. A
// closed dispute is final, so late news of it changes nothing.
func (s *Store) RecordDispute(ctx context.Context, orderID, status, detail string) (models.Order, error) {
	var out models.Order
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row orderRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("id = ?", orderID).Take(&row).Error; err != nil {
			return err
		}
		// Rows from before dispute statuses were kept: disputed means open.
		current := row.DisputeStatus
		if current == "" && row.Disputed {
			current = models.DisputeNeedsResponse
		}
		if current != status && !models.DisputeClosed(current) {
			t := now()
			if err := tx.Model(&orderRow{}).Where("id = ?", orderID).Updates(map[string]any{
				"disputed": models.DisputeHoldsMoney(status), "dispute_status": status, "updated_at": t,
			}).Error; err != nil {
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
		return models.Order{}, dbError("record dispute", "order", err)
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
