package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// buyerProfileRow is a saved buyer profile. Shipping (name included), Email
// and Phone hold ciphertext made by addressCodec; the Stripe ids and the
// card summary are not personal data on their own and stay readable, so
// operators can find a profile from a Stripe dashboard.
type buyerProfileRow struct {
	BuyerID          string `gorm:"primaryKey;size:64"`
	ID               string `gorm:"size:64;not null;uniqueIndex:idx_buyer_profiles_id"`
	Shipping         string `gorm:"type:text;not null"`
	Email            string `gorm:"type:text;not null"`
	Phone            string `gorm:"type:text;not null"`
	StripeCustomerID string `gorm:"size:255;not null"`
	PaymentMethodID  string `gorm:"size:255;not null"`
	CardBrand        string `gorm:"size:32;not null"`
	CardLast4        string `gorm:"size:4;not null"`
	CardExpMonth     int64  `gorm:"not null"`
	CardExpYear      int64  `gorm:"not null"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (buyerProfileRow) TableName() string { return "buyer_profiles" }

// SaveProfile stores a buyer's first profile. A buyer who already has one
// keeps it and gets it back: the first purchase that saved wins, and a
// retried save changes nothing. Replacing details is UpdateProfile's job.
func (s *Store) SaveProfile(ctx context.Context, p models.Profile) (models.Profile, error) {
	if p.BuyerID == "" || !models.ValidID(p.ID) {
		return models.Profile{}, models.Invalid("invalid_profile", "profile and buyer ids are required")
	}
	t := now()
	p.CreatedAt, p.UpdatedAt = t, t
	row, err := s.profileToRow(p)
	if err != nil {
		return models.Profile{}, err
	}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return models.Profile{}, dbError("save profile", "profile", err)
	}
	return s.Profile(ctx, p.BuyerID)
}

// Profile returns a buyer's saved profile, decrypted.
func (s *Store) Profile(ctx context.Context, buyerID string) (models.Profile, error) {
	var row buyerProfileRow
	if err := s.db.WithContext(ctx).Where("buyer_id = ?", buyerID).Take(&row).Error; err != nil {
		return models.Profile{}, dbError("profile", "profile", err)
	}
	return s.rowToProfile(row)
}

// UpdateProfile replaces the details of an existing profile; its id, buyer
// and creation time stay, and so do its Stripe customer and card, which only
// ReplaceProfileCard changes: an address edit racing a card change must not
// put the old card back.
func (s *Store) UpdateProfile(ctx context.Context, p models.Profile) (models.Profile, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur buyerProfileRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("buyer_id = ?", p.BuyerID).Take(&cur).Error; err != nil {
			return err
		}
		p.ID, p.CreatedAt, p.UpdatedAt = cur.ID, cur.CreatedAt, now()
		p.StripeCustomerID, p.PaymentMethodID = cur.StripeCustomerID, cur.PaymentMethodID
		p.Card = models.CardSummary{Brand: cur.CardBrand, Last4: cur.CardLast4, ExpMonth: cur.CardExpMonth, ExpYear: cur.CardExpYear}
		row, err := s.profileToRow(p)
		if err != nil {
			return err
		}
		return tx.Save(&row).Error
	})
	if err != nil {
		return models.Profile{}, dbError("update profile", "profile", err)
	}
	return s.Profile(ctx, p.BuyerID)
}

// ErasedProfile is what is left to do at Stripe after an erasure.
type ErasedProfile struct {
	Found            bool
	ProfileID        string
	StripeCustomerID string
	PaymentMethodID  string
	RedactedOrders   int64 // ended orders whose address was wiped now
	PendingOrders    int64 // open orders whose address is wiped when they end
}

// EraseProfile forgets a buyer's personal data in one transaction: the
// profile row is deleted, the shipping address of every ended order is
// wiped, and open orders are marked so that ApplyStatusChange wipes theirs
// when they end (the merchant still has to ship to it). Erasing twice is
// harmless. The saved card is still attached at Stripe: the caller detaches
// it using the ids returned.
func (s *Store) EraseProfile(ctx context.Context, buyerID string) (ErasedProfile, error) {
	var out ErasedProfile
	ended := endedStatuses()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row buyerProfileRow
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("buyer_id = ?", buyerID).Take(&row).Error
		switch {
		case err == nil:
			out.Found, out.ProfileID = true, row.ID
			out.StripeCustomerID, out.PaymentMethodID = row.StripeCustomerID, row.PaymentMethodID
			if err := tx.Where("buyer_id = ?", buyerID).Delete(&buyerProfileRow{}).Error; err != nil {
				return err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		// One-tap purchases that read the profile before this erasure and
		// have no order row yet: their order is created flagged. First, so
		// that an order being created right now is waited for (its use row
		// is locked) and then seen by the updates below.
		if err := markProfileUsesErased(tx, buyerID); err != nil {
			return err
		}
		res := tx.Model(&orderRow{}).Where("buyer_id = ? AND status IN ? AND shipping_address <> ''", buyerID, ended).
			Updates(map[string]any{"shipping_address": "", "redact_shipping": true})
		if res.Error != nil {
			return res.Error
		}
		out.RedactedOrders = res.RowsAffected
		res = tx.Model(&orderRow{}).Where("buyer_id = ? AND status NOT IN ? AND redact_shipping = ?", buyerID, ended, false).
			Update("redact_shipping", true)
		if res.Error != nil {
			return res.Error
		}
		out.PendingOrders = res.RowsAffected
		return nil
	})
	if err != nil {
		return ErasedProfile{}, dbError("erase profile", "profile", err)
	}
	return out, nil
}

func (s *Store) profileToRow(p models.Profile) (buyerProfileRow, error) {
	row := buyerProfileRow{
		BuyerID: p.BuyerID, ID: p.ID,
		StripeCustomerID: p.StripeCustomerID, PaymentMethodID: p.PaymentMethodID,
		CardBrand: p.Card.Brand, CardLast4: p.Card.Last4, CardExpMonth: p.Card.ExpMonth, CardExpYear: p.Card.ExpYear,
		CreatedAt: p.CreatedAt.UTC().Truncate(time.Microsecond), UpdatedAt: p.UpdatedAt.UTC().Truncate(time.Microsecond),
	}
	var err error
	if row.Shipping, err = s.addresses.Seal(p.Shipping, profileFieldAD(p.BuyerID, "shipping")); err != nil {
		return row, err
	}
	if row.Email, err = s.addresses.sealText(p.Email, profileFieldAD(p.BuyerID, "email")); err != nil {
		return row, err
	}
	if row.Phone, err = s.addresses.sealText(p.Phone, profileFieldAD(p.BuyerID, "phone")); err != nil {
		return row, err
	}
	return row, nil
}

func (s *Store) rowToProfile(r buyerProfileRow) (models.Profile, error) {
	p := models.Profile{
		ID: r.ID, BuyerID: r.BuyerID,
		StripeCustomerID: r.StripeCustomerID, PaymentMethodID: r.PaymentMethodID,
		Card:      models.CardSummary{Brand: r.CardBrand, Last4: r.CardLast4, ExpMonth: r.CardExpMonth, ExpYear: r.CardExpYear},
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	var err error
	if p.Shipping, err = s.addresses.Open(r.Shipping, profileFieldAD(r.BuyerID, "shipping")); err != nil {
		return models.Profile{}, err
	}
	if p.Email, err = s.addresses.openText(r.Email, profileFieldAD(r.BuyerID, "email")); err != nil {
		return models.Profile{}, err
	}
	if p.Phone, err = s.addresses.openText(r.Phone, profileFieldAD(r.BuyerID, "phone")); err != nil {
		return models.Profile{}, err
	}
	return p, nil
}

// endedStatuses lists the statuses after which nothing ships; which ones are
// final is the state machine's call, not repeated here.
func endedStatuses() []string {
	var out []string
	for _, st := range []models.OrderStatus{
		models.StatusPending, models.StatusRequiresAction, models.StatusAuthorized, models.StatusAccepted,
		models.StatusShipped, models.StatusDelivered, models.StatusPaymentFailed, models.StatusSoldOut,
		models.StatusInvalid, models.StatusRejected, models.StatusExpired, models.StatusCancelled,
	} {
		if st.Terminal() {
			out = append(out, string(st))
		}
	}
	return out
}
