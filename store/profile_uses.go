package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// profileUseRow records that a one-tap purchase took its address from the
// buyer's saved profile, before its order row exists (the workflow writes
// that row a moment later). An erasure marks the buyer's uses, and
// CreateOrder, finding its use marked, creates the order already flagged for
// redaction. With the profile row locked while a use is recorded, an erasure
// and a one-tap purchase are serialized: either the purchase finds no
// profile, or the erasure finds the use (or the order) and the erased
// address leaves the order when it ends, like any order open at erasure.
type profileUseRow struct {
	OrderID   string    `gorm:"primaryKey;size:64"`
	BuyerID   string    `gorm:"size:64;not null;index:idx_profile_uses_buyer"`
	Erased    bool      `gorm:"not null;default:false"`
	CreatedAt time.Time `gorm:"not null"`
}

func (profileUseRow) TableName() string { return "profile_uses" }

// ProfileForPurchase reads the buyer's profile for the one-tap purchase
// orderID and records the use, under a lock on the profile row that
// EraseProfile also takes.
func (s *Store) ProfileForPurchase(ctx context.Context, buyerID, orderID string) (models.Profile, error) {
	var p models.Profile
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row buyerProfileRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("buyer_id = ?", buyerID).Take(&row).Error; err != nil {
			return dbError("profile", "profile", err)
		}
		use := profileUseRow{OrderID: orderID, BuyerID: buyerID, CreatedAt: now()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&use).Error; err != nil {
			return dbError("profile use", "profile", err)
		}
		var err error
		p, err = s.rowToProfile(row)
		return err
	})
	return p, err
}

// markProfileUsesErased is EraseProfile's part: the buyer's one-tap
// purchases whose order row is not written yet.
func markProfileUsesErased(tx *gorm.DB, buyerID string) error {
	return tx.Model(&profileUseRow{}).Where("buyer_id = ?", buyerID).Update("erased", true).Error
}

// consumeProfileUse is CreateOrder's part: whether the order's address came
// from a profile erased since, and the use row gone either way.
func consumeProfileUse(tx *gorm.DB, orderID string) (erased bool, err error) {
	var use profileUseRow
	err = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("order_id = ?", orderID).Take(&use).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := tx.Where("order_id = ?", orderID).Delete(&profileUseRow{}).Error; err != nil {
		return false, err
	}
	return use.Erased, nil
}
