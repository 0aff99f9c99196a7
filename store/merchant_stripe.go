package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// merchantStripeRow is a merchant's connected account, kept current from
// Stripe's account.updated. EventCreated is the creation time of the event
// last applied: an older one arriving late is not applied over it.
type merchantStripeRow struct {
	MerchantID      string `gorm:"primaryKey;size:64"`
	AccountID       string `gorm:"size:255;not null;uniqueIndex:idx_merchant_stripe_account"`
	ChargesEnabled  bool   `gorm:"not null"`
	PayoutsEnabled  bool   `gorm:"not null"`
	DetailsDone     bool   `gorm:"not null"`
	RequirementsDue string `gorm:"type:text;not null"`
	DisabledReason  string `gorm:"size:64;not null"`
	FeeBPS          *int64
	FeeFixedMinor   *int64
	EventCreated    int64 `gorm:"not null"`
	UpdatedAt       time.Time
}

func (merchantStripeRow) TableName() string { return "merchant_stripe_accounts" }

// orderFeeRow is the fee snapshot of an order, taken when it is placed.
type orderFeeRow struct {
	OrderID          string `gorm:"primaryKey;size:64"`
	MerchantID       string `gorm:"size:64;not null;index:idx_order_fees_merchant"`
	Destination      string `gorm:"size:255;not null"`
	FeeBPS           int64  `gorm:"not null"`
	FeeFixedMinor    int64  `gorm:"not null"`
	FeeMinor         int64  `gorm:"not null"`
	CapturedFeeMinor int64  `gorm:"not null"`
	CreatedAt        time.Time
}

func (orderFeeRow) TableName() string { return "order_fees" }

// refundSplitRow records, per refund, what came back from the merchant's
// transfer and what of the platform fee was returned.
type refundSplitRow struct {
	OrderID          string `gorm:"primaryKey;size:64"`
	RequestKey       string `gorm:"primaryKey;size:255"`
	StripeRefundID   string `gorm:"size:255;not null"`
	AmountMinor      int64  `gorm:"not null"`
	ReversedMinor    int64  `gorm:"not null"`
	FeeReturnedMinor int64  `gorm:"not null"`
	CreatedAt        time.Time
}

func (refundSplitRow) TableName() string { return "refund_splits" }

func connectRows() []any { return []any{&merchantStripeRow{}, &orderFeeRow{}, &refundSplitRow{}} }

// MerchantStripe is the merchant's connected account; found is false when
// the merchant has none yet.
func (s *Store) MerchantStripe(ctx context.Context, merchantID string) (models.MerchantStripe, bool, error) {
	var row merchantStripeRow
	err := s.db.WithContext(ctx).Where("merchant_id = ?", merchantID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.MerchantStripe{MerchantID: merchantID, AccountState: models.AccountState{RequirementsDue: []string{}}}, false, nil
	}
	if err != nil {
		return models.MerchantStripe{}, false, dbError("merchant stripe account", "merchant", err)
	}
	return row.toModel(), true, nil
}

// AttachStripeAccount links a newly created connected account to the
// merchant. A merchant keeps its first account: when one is linked already
// that one is returned and accountID is ignored.
func (s *Store) AttachStripeAccount(ctx context.Context, merchantID string, st models.AccountState) (models.MerchantStripe, error) {
	row := merchantStripeRow{MerchantID: merchantID, AccountID: st.AccountID, ChargesEnabled: st.ChargesEnabled,
		PayoutsEnabled: st.PayoutsEnabled, DetailsDone: st.DetailsDone, RequirementsDue: strings.Join(st.RequirementsDue, ","),
		DisabledReason: st.DisabledReason, UpdatedAt: now()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "merchant_id"}}, DoNothing: true}).Create(&row).Error
	if err != nil {
		return models.MerchantStripe{}, dbError("attach stripe account", "merchant", err)
	}
	ms, _, err := s.MerchantStripe(ctx, merchantID)
	return ms, err
}

// ApplyAccountState records a connected account's state from an event
// created at eventCreated (Unix seconds). An event older than the one last
// applied changes nothing (applied false), so a late redelivery never
// overwrites a newer state; the state itself is what Stripe answers when
// the event is handled, so events of the same second agree.
func (s *Store) ApplyAccountState(ctx context.Context, st models.AccountState, eventCreated int64) (merchantID string, applied bool, err error) {
	res := s.db.WithContext(ctx).Model(&merchantStripeRow{}).
		Where("account_id = ? AND event_created <= ?", st.AccountID, eventCreated).
		Updates(map[string]any{
			"charges_enabled": st.ChargesEnabled, "payouts_enabled": st.PayoutsEnabled, "details_done": st.DetailsDone,
			"requirements_due": strings.Join(st.RequirementsDue, ","), "disabled_reason": st.DisabledReason,
			"event_created": eventCreated, "updated_at": now(),
		})
	if res.Error != nil {
		return "", false, dbError("apply account state", "merchant", res.Error)
	}
	var row merchantStripeRow
	if err := s.db.WithContext(ctx).Where("account_id = ?", st.AccountID).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", false, nil // not one of our merchants' accounts
		}
		return "", false, dbError("apply account state", "merchant", err)
	}
	return row.MerchantID, res.RowsAffected > 0, nil
}

// SetMerchantFee stores the merchant's own fee (nil: the platform's).
func (s *Store) SetMerchantFee(ctx context.Context, merchantID string, fee *models.FeePolicy) error {
	if fee != nil {
		if err := fee.Check("merchant fee"); err != nil {
			return err
		}
	}
	updates := map[string]any{"fee_bps": nil, "fee_fixed_minor": nil}
	if fee != nil {
		updates = map[string]any{"fee_bps": fee.BPS, "fee_fixed_minor": fee.FixedMinor}
	}
	res := s.db.WithContext(ctx).Model(&merchantStripeRow{}).Where("merchant_id = ?", merchantID).Updates(updates)
	if res.Error != nil {
		return dbError("set merchant fee", "merchant", res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Conflict("merchant_not_onboarded", "the merchant has no connected account")
	}
	return nil
}

func (r merchantStripeRow) toModel() models.MerchantStripe {
	ms := models.MerchantStripe{MerchantID: r.MerchantID, UpdatedAt: r.UpdatedAt.UTC(), AccountState: models.AccountState{
		AccountID: r.AccountID, ChargesEnabled: r.ChargesEnabled, PayoutsEnabled: r.PayoutsEnabled, DetailsDone: r.DetailsDone,
		RequirementsDue: []string{}, DisabledReason: r.DisabledReason}}
	if r.RequirementsDue != "" {
		ms.RequirementsDue = strings.Split(r.RequirementsDue, ",")
	}
	if r.FeeBPS != nil && r.FeeFixedMinor != nil {
		ms.Fee = &models.FeePolicy{BPS: *r.FeeBPS, FixedMinor: *r.FeeFixedMinor}
	}
	return ms
}

// SnapshotOrderFee takes the order's fee snapshot once: the merchant's
// account as destination and its fee policy (its own, else platform) on
// amount. Later calls return the first snapshot whatever changed since. A
// merchant that cannot take charges gets none:
// merchant_cannot_accept_payments.
func (s *Store) SnapshotOrderFee(ctx context.Context, orderID, merchantID string, amount int64, platform models.FeePolicy) (models.OrderFee, error) {
	if f, found, err := s.OrderFee(ctx, orderID); err != nil || found {
		return f, err
	}
	ms, found, err := s.MerchantStripe(ctx, merchantID)
	if err != nil {
		return models.OrderFee{}, err
	}
	if err := models.CheckAcceptsPayments(ms, found); err != nil {
		return models.OrderFee{}, err
	}
	policy := models.MerchantFee(platform, ms.Fee)
	row := orderFeeRow{OrderID: orderID, MerchantID: merchantID, Destination: ms.AccountID, FeeBPS: policy.BPS,
		FeeFixedMinor: policy.FixedMinor, FeeMinor: policy.FeeFor(amount), CreatedAt: now()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return models.OrderFee{}, dbError("snapshot order fee", "order", res.Error)
	}
	if res.RowsAffected == 1 {
		return row.toModel(), nil
	}
	// A concurrent attempt took the snapshot first: its is the order's.
	f, _, err := s.OrderFee(ctx, orderID)
	return f, err
}

// OrderFee is the order's fee snapshot; found is false for an order placed
// without one.
func (s *Store) OrderFee(ctx context.Context, orderID string) (models.OrderFee, bool, error) {
	row, found, err := s.orderFeeRow(ctx, orderID)
	if err != nil || !found {
		return models.OrderFee{}, found, err
	}
	return row.toModel(), true, nil
}

func (r orderFeeRow) toModel() models.OrderFee {
	return models.OrderFee{OrderID: r.OrderID, Destination: r.Destination,
		Policy: models.FeePolicy{BPS: r.FeeBPS, FixedMinor: r.FeeFixedMinor}, FeeMinor: r.FeeMinor, CapturedFeeMinor: r.CapturedFeeMinor}
}

// RecordCapturedFee stores the application fee sent at capture.
func (s *Store) RecordCapturedFee(ctx context.Context, orderID string, fee int64) error {
	err := s.db.WithContext(ctx).Model(&orderFeeRow{}).Where("order_id = ?", orderID).Update("captured_fee_minor", fee).Error
	return dbError("record captured fee", "order", err)
}

// RecordRefundSplit records where one refund's money came from, once per
// refund (key: its step at Stripe). reversed is Stripe's transfer reversal;
// the fee returned is the policy's share of the captured fee given the
// refunds recorded before this one (returnsFee false: none).
func (s *Store) RecordRefundSplit(ctx context.Context, orderID, key, stripeRefundID string, amount, reversed int64, returnsFee bool) (models.RefundSplit, error) {
	var out refundSplitRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var fee orderFeeRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("order_id = ?", orderID).Take(&fee).Error; err != nil {
			return err
		}
		if err := tx.Where("order_id = ? AND request_key = ?", orderID, key).Take(&out).Error; err == nil {
			return nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var before int64
		if err := tx.Model(&refundSplitRow{}).Where("order_id = ?", orderID).Select("COALESCE(SUM(amount_minor), 0)").Scan(&before).Error; err != nil {
			return err
		}
		var captured int64
		if err := tx.Model(&orderRow{}).Where("id = ?", orderID).Select("captured_minor").Scan(&captured).Error; err != nil {
			return err
		}
		policy := models.RefundFeeKeep
		if returnsFee {
			policy = models.RefundFeeProportional
		}
		out = refundSplitRow{OrderID: orderID, RequestKey: key, StripeRefundID: stripeRefundID, AmountMinor: amount,
			ReversedMinor: reversed, FeeReturnedMinor: policy.FeeReturned(fee.CapturedFeeMinor, captured, before, amount), CreatedAt: now()}
		return tx.Create(&out).Error
	})
	if err != nil {
		return models.RefundSplit{}, dbError("record refund split", "order", err)
	}
	return out.toModel(), nil
}

func (r refundSplitRow) toModel() models.RefundSplit {
	return models.RefundSplit{OrderID: r.OrderID, StripeRefundID: r.StripeRefundID, AmountMinor: r.AmountMinor,
		ReversedMinor: r.ReversedMinor, FeeReturnedMinor: r.FeeReturnedMinor, CreatedAt: r.CreatedAt.UTC()}
}

// RefundSplits lists an order's refund splits, oldest first.
func (s *Store) RefundSplits(ctx context.Context, orderID string) ([]models.RefundSplit, error) {
	var rows []refundSplitRow
	if err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("created_at, request_key").Find(&rows).Error; err != nil {
		return nil, dbError("refund splits", "order", err)
	}
	out := make([]models.RefundSplit, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toModel())
	}
	return out, nil
}

// MerchantOrdersBetween lists the merchant's orders with captured money
// created in [from, to), newest first, at most limit.
func (s *Store) MerchantOrdersBetween(ctx context.Context, merchantID string, from, to time.Time, limit int) ([]models.Order, error) {
	var rows []orderRow
	err := s.db.WithContext(ctx).Where("merchant_id = ? AND created_at >= ? AND created_at < ? AND captured_minor > 0", merchantID, from, to).
		Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, dbError("merchant orders", "order", err)
	}
	return s.rowsToOrders(rows)
}

// ForgetStripeAccount unlinks the merchant's connected account, for
// development only: the in-memory sandbox forgets its accounts on restart
// while the development database keeps the link.
func (s *Store) ForgetStripeAccount(ctx context.Context, merchantID string) error {
	err := s.db.WithContext(ctx).Where("merchant_id = ?", merchantID).Delete(&merchantStripeRow{}).Error
	return dbError("forget stripe account", "merchant", err)
}

func (s *Store) orderFeeRow(ctx context.Context, orderID string) (orderFeeRow, bool, error) {
	var row orderFeeRow
	err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, false, nil
	}
	if err != nil {
		return row, false, dbError("order fee", "order", err)
	}
	return row, true, nil
}
