package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// ReplaceProfileCard swaps the saved card (and customer) of a buyer's
// profile. Applying the same change again is a no-op that returns the
// profile, so a retried step succeeds. No profile: not found; a profile whose
// card is neither the old nor the new one: conflict profile_changed.
func (s *Store) ReplaceProfileCard(ctx context.Context, c models.CardChange) (models.Profile, error) {
	if c.BuyerID == "" || c.PaymentMethodID == "" || c.StripeCustomerID == "" {
		return models.Profile{}, models.Invalid("invalid_card_change", "buyer, customer and payment method are required")
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur buyerProfileRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("buyer_id = ?", c.BuyerID).Take(&cur).Error; err != nil {
			return err
		}
		switch cur.PaymentMethodID {
		case c.PaymentMethodID:
			return nil
		case c.OldPaymentMethodID:
		default:
			return models.Conflict("profile_changed", "the saved card was changed by another request")
		}
		return tx.Model(&buyerProfileRow{}).Where("buyer_id = ?", c.BuyerID).Updates(map[string]any{
			"stripe_customer_id": c.StripeCustomerID,
			"payment_method_id":  c.PaymentMethodID,
			"card_brand":         c.Card.Brand,
			"card_last4":         c.Card.Last4,
			"card_exp_month":     c.Card.ExpMonth,
			"card_exp_year":      c.Card.ExpYear,
			"updated_at":         now(),
		}).Error
	})
	if err != nil {
		return models.Profile{}, dbError("replace profile card", "profile", err)
	}
	return s.Profile(ctx, c.BuyerID)
}
