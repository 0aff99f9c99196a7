package store

import (
	"context"

	"github.com/buybutton/checkout/models"
)

// CreateProduct adds an active product with one default variant holding its
// price and stock. p must already be validated (models.NewProduct.Validate).
func (s *Store) CreateProduct(ctx context.Context, merchantID string, p models.NewProduct) (models.Product, error) {
	d, err := s.CreateCatalogueProduct(ctx, merchantID, models.NewCatalogueProduct{
		NewProduct: p, Variants: []models.NewVariant{{Price: p.Price, Stock: p.Stock}},
	})
	return d.Product, err
}

// Product returns any product by id, whoever sells it; its Stock is the
// stock of its active variants.
func (s *Store) Product(ctx context.Context, id string) (models.Product, error) {
	db := s.db.WithContext(ctx)
	var row productRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return models.Product{}, dbError("product", "product", err)
	}
	p := row.toModel()
	stock, err := variantStock(db, id)
	if err != nil {
		return models.Product{}, dbError("product stock", "product", err)
	}
	p.Stock = stock
	return p, nil
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
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	stocks, err := variantStocks(s.db.WithContext(ctx), ids)
	if err != nil {
		return nil, dbError("list products", "product", err)
	}
	out := make([]models.Product, len(rows))
	for i, r := range rows {
		out[i] = r.toModel()
		out[i].Stock = stocks[r.ID]
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
