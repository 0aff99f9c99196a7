package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

// merchantPolicyRow holds a merchant's shipping policy and tax table (JSON).
// A merchant without a row ships everywhere free and charges no tax.
type merchantPolicyRow struct {
	MerchantID string `gorm:"primaryKey;size:64"`
	Shipping   string `gorm:"type:text;not null;default:''"`
	Tax        string `gorm:"type:text;not null;default:''"`
	UpdatedAt  time.Time
}

func (merchantPolicyRow) TableName() string { return "merchant_policies" }

// ShippingPolicy returns a merchant's shipping zones (none: ships everywhere free).
func (s *Store) ShippingPolicy(ctx context.Context, merchantID string) (models.ShippingPolicy, error) {
	row, err := s.policyRow(ctx, merchantID)
	if err != nil {
		return models.ShippingPolicy{Zones: []models.ShippingZone{}}, err
	}
	return row.shippingPolicy()
}

// TaxTable returns a merchant's tax rates (none: no tax).
func (s *Store) TaxTable(ctx context.Context, merchantID string) (models.TaxTable, error) {
	row, err := s.policyRow(ctx, merchantID)
	if err != nil {
		return models.TaxTable{Rates: []models.TaxRate{}}, err
	}
	return row.taxTable()
}

func (r merchantPolicyRow) shippingPolicy() (models.ShippingPolicy, error) {
	return decodePolicy(r.Shipping, models.ShippingPolicy{Zones: []models.ShippingZone{}})
}

func (r merchantPolicyRow) taxTable() (models.TaxTable, error) {
	return decodePolicy(r.Tax, models.TaxTable{Rates: []models.TaxRate{}})
}

// decodePolicy decodes a stored policy column; none is the policy of an
// empty column.
func decodePolicy[T any](column string, none T) (T, error) {
	if column == "" {
		return none, nil
	}
	err := json.Unmarshal([]byte(column), &none)
	return none, err
}

func (s *Store) policyRow(ctx context.Context, merchantID string) (merchantPolicyRow, error) {
	var row merchantPolicyRow
	err := s.db.WithContext(ctx).Where("merchant_id = ?", merchantID).Limit(1).Find(&row).Error
	return row, dbError("merchant policy", "merchant policy", err)
}

// SetShippingPolicy replaces a merchant's zones; p must be validated.
func (s *Store) SetShippingPolicy(ctx context.Context, merchantID string, p models.ShippingPolicy) error {
	return s.setPolicy(ctx, merchantRowPolicy{merchantID: merchantID, column: "shipping", value: mustJSON(p)})
}

// SetTaxTable replaces a merchant's tax rates; t must be validated.
func (s *Store) SetTaxTable(ctx context.Context, merchantID string, t models.TaxTable) error {
	return s.setPolicy(ctx, merchantRowPolicy{merchantID: merchantID, column: "tax", value: mustJSON(t)})
}

type merchantRowPolicy struct{ merchantID, column, value string }

func (s *Store) setPolicy(ctx context.Context, p merchantRowPolicy) error {
	row := merchantPolicyRow{MerchantID: p.merchantID, UpdatedAt: now()}
	if p.column == "shipping" {
		row.Shipping = p.value
	} else {
		row.Tax = p.value
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "merchant_id"}},
		DoUpdates: clause.AssignmentColumns([]string{p.column, "updated_at"}),
	}).Create(&row).Error
	return dbError("set merchant policy", "merchant policy", err)
}
