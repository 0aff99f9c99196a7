package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// merchantOutboxRow is one of an order's events for its merchant, kept until
// it was delivered or given up. The order's workflow writes it in a store
// step; the worker's dispatcher (activities.Dispatcher) sends it. Events of
// one order leave one at a time, in sequence: an event waits while an
// earlier one of its order is pending.
type merchantOutboxRow struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	OrderID   string `gorm:"size:64;not null;uniqueIndex:idx_merchant_outbox_order_sequence,priority:1"`
	Sequence  int    `gorm:"not null;uniqueIndex:idx_merchant_outbox_order_sequence,priority:2"`
	EventType string `gorm:"size:64;not null"`
	// Payload is the event as the dispatcher sends it (activities.NotifyInput,
	// JSON), sealed with the key ring: it carries the buyer's address. It
	// is cleared once the event has left, so the outbox holds personal data
	// only while an event waits.
	Payload  string `gorm:"not null"`
	State    string `gorm:"size:16;not null;index:idx_merchant_outbox_due,priority:1"`
	Attempts int    `gorm:"not null"`
	// NextAttemptAt is when the event may be sent (again).
	NextAttemptAt time.Time `gorm:"not null;index:idx_merchant_outbox_due,priority:2"`
	// LeaseToken and LeaseUntil mark an attempt in flight: no other
	// dispatcher takes the event until the lease runs out, so a dispatcher
	// that dies mid-attempt delays the event by one lease, not for ever.
	LeaseToken string `gorm:"size:32;not null"`
	LeaseUntil *time.Time
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (merchantOutboxRow) TableName() string { return "merchant_outbox" }

// Outbox states.
const (
	OutboxPending    = "pending"
	OutboxDelivered  = "delivered"
	OutboxFailed     = "failed"     // given up after the retry window
	OutboxSuperseded = "superseded" // an ending made it moot before it left
)

// OutboxEvent is one event taken for sending.
type OutboxEvent struct {
	ID        int64
	OrderID   string
	Sequence  int
	EventType string
	Payload   []byte
	Attempts  int // including the one now taken
	CreatedAt time.Time
	Lease     string // names this attempt to FinishOutboxEvent
}

// NewOutboxEvent is an event to keep for sending.
type NewOutboxEvent struct {
	OrderID   string
	Sequence  int // from 1, in the order the events happened
	EventType string
	Payload   []byte
	// Supersedes names an event type this event makes moot: a pending one
	// of the same order with a lower sequence is not sent (an ending
	// supersedes an order.created that has not left). One in flight
	// finishes its attempt and is not retried.
	Supersedes string
}

// EnqueueOutboxEvent keeps an event for sending. Keeping the same order's
// sequence number again changes nothing, so a retried store step cannot
// send an event twice.
func (s *Store) EnqueueOutboxEvent(ctx context.Context, e NewOutboxEvent) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.keepOutboxEvent(tx, e) })
	return dbError("enqueue merchant event", "order", err)
}

// keepOutboxEvent is EnqueueOutboxEvent inside transaction tx.
func (s *Store) keepOutboxEvent(tx *gorm.DB, e NewOutboxEvent) error {
	t := now()
	sealed, err := s.addresses.sealText(string(e.Payload), outboxPayloadAD(e.OrderID, e.Sequence))
	if err != nil {
		return err
	}
	row := merchantOutboxRow{OrderID: e.OrderID, Sequence: e.Sequence, EventType: e.EventType, Payload: sealed,
		State: OutboxPending, NextAttemptAt: t, CreatedAt: t, UpdatedAt: t}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return err
	}
	if e.Supersedes == "" {
		return nil
	}
	return tx.Model(&merchantOutboxRow{}).
		Where("order_id = ? AND event_type = ? AND sequence < ? AND state = ?", e.OrderID, e.Supersedes, e.Sequence, OutboxPending).
		Updates(map[string]any{"state": OutboxSuperseded, "payload": "", "updated_at": t}).Error
}

// TakeOutboxEvents leases up to limit events that are due: pending, past
// their next attempt time, not leased, and with no earlier event of their
// order pending or in flight. Each is leased for leaseFor, its attempt
// counted.
func (s *Store) TakeOutboxEvents(ctx context.Context, limit int, leaseFor time.Duration) ([]OutboxEvent, error) {
	t := now()
	var rows []merchantOutboxRow
	db := s.db.WithContext(ctx)
	err := db.Where("state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", OutboxPending, t, t).
		Where("NOT EXISTS (?)", db.Model(&merchantOutboxRow{}).Select("1").Table("merchant_outbox AS earlier").
			Where("earlier.order_id = merchant_outbox.order_id AND earlier.sequence < merchant_outbox.sequence").
			Where("earlier.state = ? OR earlier.lease_until >= ?", OutboxPending, t)).
		Order("next_attempt_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, dbError("take merchant events", "order", err)
	}
	until := t.Add(leaseFor)
	out := make([]OutboxEvent, 0, len(rows))
	for _, r := range rows {
		lease := newLease()
		// Another dispatcher may have taken it since the read: the
		// conditional update decides who sends.
		res := db.Model(&merchantOutboxRow{}).
			Where("id = ? AND state = ? AND (lease_until IS NULL OR lease_until < ?)", r.ID, OutboxPending, t).
			Updates(map[string]any{"lease_token": lease, "lease_until": until, "attempts": gorm.Expr("attempts + 1"), "updated_at": t})
		if res.Error != nil {
			return out, dbError("take merchant events", "order", res.Error)
		}
		if res.RowsAffected != 1 {
			continue
		}
		payload, err := s.addresses.openText(r.Payload, outboxPayloadAD(r.OrderID, r.Sequence))
		if err != nil {
			// Taken and counted, not returned: the lease runs out and the
			// attempt is made again (a key missing from the ring is an
			// operator's to put back).
			return out, fmt.Errorf("store: take merchant event %d: %w", r.ID, err)
		}
		out = append(out, OutboxEvent{ID: r.ID, OrderID: r.OrderID, Sequence: r.Sequence, EventType: r.EventType,
			Payload: []byte(payload), Attempts: r.Attempts + 1, CreatedAt: r.CreatedAt, Lease: lease})
	}
	return out, nil
}

// FinishOutboxEvent ends the attempt of a taken event: state is the outcome
// (OutboxDelivered, OutboxFailed), or OutboxPending with retryAt to try
// again then. An event superseded meanwhile stays superseded, and a lease
// that ran out and went to another dispatcher is not this attempt's to end.
func (s *Store) FinishOutboxEvent(ctx context.Context, ev OutboxEvent, state string, retryAt time.Time) error {
	t := now()
	fields := map[string]any{"state": state, "lease_token": "", "lease_until": nil, "updated_at": t}
	if state == OutboxPending {
		fields["next_attempt_at"] = retryAt.UTC()
	} else {
		fields["payload"] = "" // left: the personal data goes with it
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&merchantOutboxRow{}).
			Where("id = ? AND lease_token = ? AND state = ?", ev.ID, ev.Lease, OutboxPending).Updates(fields)
		if res.Error != nil || res.RowsAffected == 1 {
			return res.Error
		}
		// Superseded during the attempt: it stays so, and the event that
		// superseded it may leave now.
		return tx.Model(&merchantOutboxRow{}).Where("id = ? AND lease_token = ?", ev.ID, ev.Lease).
			Updates(map[string]any{"lease_token": "", "lease_until": nil, "updated_at": t}).Error
	})
	return dbError("finish merchant event", "order", err)
}

// OutboxPendingBefore reports whether the order has a pending event with a
// sequence below seq: a later event sent outside the outbox waits for it.
func (s *Store) OutboxPendingBefore(ctx context.Context, orderID string, seq int) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&merchantOutboxRow{}).
		Where("order_id = ? AND sequence < ? AND state = ?", orderID, seq, OutboxPending).Limit(1).Count(&n).Error
	return n > 0, dbError("read merchant events", "order", err)
}

// OutboxStates counts the order's kept events by state.
func (s *Store) OutboxStates(ctx context.Context, orderID string) (map[string]int, error) {
	var rows []struct {
		State string
		N     int
	}
	err := s.db.WithContext(ctx).Model(&merchantOutboxRow{}).Select("state, count(*) AS n").
		Where("order_id = ?", orderID).Group("state").Scan(&rows).Error
	if err != nil {
		return nil, dbError("read merchant events", "order", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// OutboxBacklog counts the events waiting to be sent and says when the
// oldest of them was kept (zero when none waits).
func (s *Store) OutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&merchantOutboxRow{}).Where("state = ?", OutboxPending).Count(&n).Error; err != nil || n == 0 {
		return 0, time.Time{}, dbError("read merchant events", "order", err)
	}
	var oldest merchantOutboxRow
	err := db.Select("created_at").Where("state = ?", OutboxPending).Order("created_at").Take(&oldest).Error
	if err != nil {
		return 0, time.Time{}, dbError("read merchant events", "order", err)
	}
	return n, oldest.CreatedAt, nil
}

// PruneOutbox deletes events that left the outbox (delivered, given up,
// superseded) before the cutoff; the delivery log keeps their attempts.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("state <> ? AND updated_at < ?", OutboxPending, before.UTC()).Delete(&merchantOutboxRow{})
	return res.RowsAffected, dbError("prune merchant events", "order", res.Error)
}

// reencryptOutbox reseals the payloads of waiting events under the active
// key (those that left hold none).
func (s *Store) reencryptOutbox(ctx context.Context) (int, error) {
	done := 0
	var after int64
	for {
		var rows []merchantOutboxRow
		err := s.db.WithContext(ctx).Select("id", "order_id", "sequence", "payload").
			Where("id > ? AND state = ? AND payload <> ''", after, OutboxPending).
			Order("id ASC").Limit(reencryptBatch).Find(&rows).Error
		if err != nil {
			return done, fmt.Errorf("store: reencrypt merchant outbox: %w", err)
		}
		for _, r := range rows {
			if !s.addresses.needsReseal(r.Payload) || isLegacyPlaintext(r.Payload) {
				continue
			}
			ad := outboxPayloadAD(r.OrderID, r.Sequence)
			plain, err := s.addresses.openText(r.Payload, ad)
			if err != nil {
				return done, fmt.Errorf("store: reencrypt merchant event %d: %w", r.ID, err)
			}
			sealed, err := s.addresses.sealText(plain, ad)
			if err != nil {
				return done, err
			}
			res := s.db.WithContext(ctx).Model(&merchantOutboxRow{}).Where("id = ? AND payload = ?", r.ID, r.Payload).
				Update("payload", sealed)
			if res.Error != nil {
				return done, fmt.Errorf("store: reencrypt merchant event %d: %w", r.ID, res.Error)
			}
			done += int(res.RowsAffected)
		}
		if len(rows) < reencryptBatch {
			return done, nil
		}
		after = rows[len(rows)-1].ID
	}
}

func newLease() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
