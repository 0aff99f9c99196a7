package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// IdempotencyRecord remembers the first request made with a client's
// idempotency key, so a retry can be answered with the same order.
type IdempotencyRecord struct {
	Scope       string    // who the key belongs to, e.g. "buyer:<id>"; keys of different scopes never collide
	Key         string    // the client's Idempotency-Key
	RequestHash string    // hash of the first request's body; a retry with another body is a misuse
	OrderID     string    // the order the first request created
	CreatedAt   time.Time // when the key was first used
}

// ClaimIdempotencyKey records (scope, key) for requestHash and orderID if it
// is new and reports created=true; if it exists it returns the first record
// unchanged with created=false. Concurrent claims of one key create exactly
// one record. Comparing RequestHash is the caller's business.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, scope, key, requestHash, orderID string) (IdempotencyRecord, bool, error) {
	db := s.db.WithContext(ctx)
	row := idempotencyKeyRow{Scope: scope, Key: key, RequestHash: requestHash, OrderID: orderID, CreatedAt: now()}
	// ON CONFLICT DO NOTHING makes "already there" a row count rather than a
	// driver-specific unique-violation error.
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return IdempotencyRecord{}, false, dbError("claim idempotency key", "idempotency key", res.Error)
	}
	created := res.RowsAffected == 1
	if !created {
		if err := db.Where(map[string]any{"scope": scope, "key": key}).Take(&row).Error; err != nil {
			return IdempotencyRecord{}, false, dbError("read idempotency key", "idempotency key", err)
		}
	}
	return IdempotencyRecord{
		Scope: row.Scope, Key: row.Key, RequestHash: row.RequestHash, OrderID: row.OrderID, CreatedAt: row.CreatedAt.UTC(),
	}, created, nil
}
