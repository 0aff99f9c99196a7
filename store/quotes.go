package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/buybutton/checkout/models"
)

const quoteIDPrefix = "quo_"

// quoteRow is a priced offer. It keeps no address: only a fingerprint of
// the destination it priced, to check that a purchase ships there.
type quoteRow struct {
	ID          string    `gorm:"primaryKey;size:64"`
	BuyerID     string    `gorm:"size:64;not null"`
	ProductID   string    `gorm:"size:64;not null"`
	VariantID   string    `gorm:"size:64;not null"`
	Quantity    int64     `gorm:"not null"`
	Destination string    `gorm:"size:64;not null"`
	Pricing     string    `gorm:"type:text;not null"` // JSON of models.Pricing
	Rates       string    `gorm:"type:text;not null"` // JSON of []models.RateChoice
	OrderID     string    `gorm:"size:64;not null;default:''"`
	ExpiresAt   time.Time `gorm:"not null;index:idx_quotes_expires"`
	CreatedAt   time.Time
}

func (quoteRow) TableName() string { return "quotes" }

// CreateQuote stores a quote and returns it with its id and timestamps.
func (s *Store) CreateQuote(ctx context.Context, q models.Quote) (models.Quote, error) {
	t := now()
	q.ID, q.CreatedAt = newID(quoteIDPrefix), t
	if q.ExpiresAt.IsZero() {
		q.ExpiresAt = t.Add(models.QuoteTTL)
	}
	q.ExpiresAt = q.ExpiresAt.UTC().Truncate(time.Microsecond)
	row := quoteRow{ID: q.ID, BuyerID: q.BuyerID, ProductID: q.ProductID, VariantID: q.VariantID,
		Quantity: int64(q.Quantity), Destination: q.DestinationFingerprint, Pricing: mustJSON(q.Pricing),
		Rates: mustJSON(orEmpty(q.Rates)), ExpiresAt: q.ExpiresAt, CreatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.Quote{}, dbError("create quote", "quote", err)
	}
	// Each new quote clears a few that lapsed long ago, so the table holds
	// about a day of quotes without a job of its own. A failure here costs
	// nothing but the cleanup.
	_ = s.db.WithContext(ctx).Where("id IN (?)", s.db.Model(&quoteRow{}).Select("id").
		Where("expires_at < ?", t.Add(-quoteRetention)).Limit(quotePurgeBatch)).Delete(&quoteRow{}).Error
	return q, nil
}

// Expired quotes are kept quoteRetention (a purchase's retry may still read
// its quote), then removed quotePurgeBatch at a time by CreateQuote.
const (
	quoteRetention  = 24 * time.Hour
	quotePurgeBatch = 50
)

// Quote returns a quote by id.
func (s *Store) Quote(ctx context.Context, id string) (models.Quote, error) {
	var r quoteRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return models.Quote{}, dbError("quote", "quote", err)
	}
	q := models.Quote{ID: r.ID, BuyerID: r.BuyerID, ProductID: r.ProductID, VariantID: r.VariantID,
		Quantity: int(r.Quantity), DestinationFingerprint: r.Destination, OrderID: r.OrderID,
		ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Pricing), &q.Pricing); err != nil {
		return models.Quote{}, dbError("quote pricing", "quote", err)
	}
	_ = json.Unmarshal([]byte(r.Rates), &q.Rates)
	return q, nil
}

// ClaimQuote binds a quote to the order paying it: one order per quote, and
// the same order again is fine (a retried purchase).
func (s *Store) ClaimQuote(ctx context.Context, quoteID, orderID string) error {
	res := s.db.WithContext(ctx).Model(&quoteRow{}).
		Where("id = ? AND (order_id = '' OR order_id = ?)", quoteID, orderID).
		Update("order_id", orderID)
	if res.Error != nil {
		return dbError("claim quote", "quote", res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := s.Quote(ctx, quoteID); err != nil {
			return err
		}
		return models.Conflict(models.CodeQuoteUsed, "this quote was already paid by another purchase")
	}
	return nil
}

// pricingColumn is an order's pricing snapshot as stored.
func pricingColumn(p models.OrderPricing) string {
	if len(p.Lines) == 0 {
		return ""
	}
	return mustJSON(p)
}

// pricingOf reads an order's pricing snapshot; orders placed before
// snapshots have none.
func pricingOf(r orderRow) models.OrderPricing {
	var p models.OrderPricing
	if r.Pricing != "" {
		_ = json.Unmarshal([]byte(r.Pricing), &p)
	}
	p.VariantID = r.VariantID
	return p
}
