package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// migrationLockKey is the Postgres advisory lock that serialises migrations
// across processes: two replicas starting at once would otherwise both see a
// table missing and race to create it.
const migrationLockKey int64 = 0x636865636b6f7574 // "checkout"

// Migrate creates or updates every table and index. It is safe to run again
// and, on Postgres, from several processes at once.
func (s *Store) Migrate(ctx context.Context) error {
	// DDL is transactional on both backends, so a migration commits or rolls
	// back as a whole. The lock makes a second process wait and then find
	// the tables there: on Postgres an advisory lock scoped to the
	// transaction (it cannot leak if the connection dies), on SQLite the
	// write lock every transaction takes at BEGIN IMMEDIATE.
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return err
			}
		}
		if err := tx.AutoMigrate(allRows()...); err != nil {
			return err
		}
		if err := backfillStripeEvents(tx); err != nil {
			return err
		}
		if err := moveStockToDefaultVariants(tx); err != nil {
			return err
		}
		if s.postgres {
			return widenColumns(tx, allRows()...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
