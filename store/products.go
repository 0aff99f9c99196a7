package store

import (
	"context"

	"github.com/buybutton/checkout/models"
)

// CreateProduct adds an active product to a merchant's catalogue. p must
// already be validated (models.NewProduct.Validate).
func (s *Store) CreateProduct(ctx context.Context, merchantID string, p models.NewProduct) (models.Product, error) {
	t := now()
	row := productRow{
		ID:          newID(productIDPrefix),
		MerchantID:  merchantID,
		Title:       p.Title,
		Description: p.Description,
		PriceMinor:  p.Price,
		Currency:    p.Currency,
		Stock:       int64(p.Stock),
		MaxPerOrder: int64(p.MaxPerOrder),
		Active:      true,
		CreatedAt:   t,
		UpdatedAt:   t,
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return models.Product{}, dbError("create product", "product", err)
	}
	return row.toModel(), nil
}

// Product returns any product by id, whoever sells it.
func (s *Store) Product(ctx context.Context, id string) (models.Product, error) {
	var row productRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return models.Product{}, dbError("product", "product", err)
	}
	return row.toModel(), nil
}

// ListProducts returns a merchant's products, newest first.
func (s *Store) ListProducts(ctx context.Context, merchantID string) ([]models.Product, error) {
	var rows []productRow
	err := s.db.WithContext(ctx).
		Where("merchant_id = ?", merchantID).
		Order("created_at DESC").Order("id DESC").
		Find(&rows).Error
	if err != nil {
		return nil, dbError("list products", "product", err)
	}
	out := make([]models.Product, len(rows))
	for i, r := range rows {
		out[i] = r.toModel()
	}
	return out, nil
}

// SetProductActive shows or hides a merchant's product. Another merchant's
// product is reported as not found, so ids cannot be probed.
func (s *Store) SetProductActive(ctx context.Context, merchantID, productID string, active bool) error {
	res := s.db.WithContext(ctx).Model(&productRow{}).
		Where("id = ? AND merchant_id = ?", productID, merchantID).
		Updates(map[string]any{"active": active, "updated_at": now()})
	if res.Error != nil {
		return dbError("set product active", "product", res.Error)
	}
	if res.RowsAffected == 0 {
		return models.NotFound("product")
	}
	return nil
}

func (r productRow) toModel() models.Product {
	return models.Product{
		ID:          r.ID,
		MerchantID:  r.MerchantID,
		Title:       r.Title,
		Description: r.Description,
		PriceMinor:  r.PriceMinor,
		Currency:    r.Currency,
		Stock:       int(r.Stock),
		MaxPerOrder: int(r.MaxPerOrder),
		Active:      r.Active,
		CreatedAt:   r.CreatedAt.UTC(),
		UpdatedAt:   r.UpdatedAt.UTC(),
	}
}
