package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// eventSequenceRow is the last sequence number an order's merchant events
// used. The order's workflow numbers its events itself and leaves its last
// number here when it ends; the short workflows that handle the order after
// that (a late refund, a dispute) take the next numbers from here, so the
// merchant's events stay in sequence across the end.
type eventSequenceRow struct {
	OrderID string `gorm:"primaryKey;size:64"`
	Last    int    `gorm:"not null"`
}

func (eventSequenceRow) TableName() string { return "order_event_sequences" }

// SaveEventSequence records that the order's events used numbers up to
// last. A smaller number than the one kept changes nothing.
func (s *Store) SaveEventSequence(ctx context.Context, orderID string, last int) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return raiseSequence(tx, orderID, last) })
	return dbError("save event sequence", "order", err)
}

// raiseSequence is SaveEventSequence inside transaction tx.
func raiseSequence(tx *gorm.DB, orderID string, last int) error {
	row, err := lockedSequence(tx, orderID)
	if err != nil {
		return err
	}
	if row.Last >= last {
		return nil
	}
	return tx.Model(&eventSequenceRow{}).Where("order_id = ?", orderID).Update("last", last).Error
}

// TakeEventSequences reserves the next n sequence numbers of the order's
// events and returns the first of them.
func (s *Store) TakeEventSequences(ctx context.Context, orderID string, n int) (int, error) {
	first := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lockedSequence(tx, orderID)
		if err != nil {
			return err
		}
		first = row.Last + 1
		return tx.Model(&eventSequenceRow{}).Where("order_id = ?", orderID).Update("last", row.Last+n).Error
	})
	if err != nil {
		return 0, dbError("take event sequences", "order", err)
	}
	return first, nil
}

// lockedSequence is the order's row, created at zero when missing, locked
// for the rest of the transaction.
func lockedSequence(tx *gorm.DB, orderID string) (eventSequenceRow, error) {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&eventSequenceRow{OrderID: orderID}).Error; err != nil {
		return eventSequenceRow{}, err
	}
	var row eventSequenceRow
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("order_id = ?", orderID).Take(&row).Error
	return row, err
}
