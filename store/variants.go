package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/buybutton/checkout/models"
)

const variantIDPrefix = "var_"

// variantRow is one variant of a product; its stock is the stock purchases
// reserve from. products.stock is no longer read once a product has
// variants (the migration moves it here).
type variantRow struct {
	ID         string `gorm:"primaryKey;size:64"`
	ProductID  string `gorm:"size:64;not null;index:idx_product_variants_product,priority:1"`
	Position   int64  `gorm:"not null;index:idx_product_variants_product,priority:2"`
	SKU        string `gorm:"size:64;not null"`
	Options    string `gorm:"type:text;not null"` // JSON object, option name → value
	PriceMinor int64  `gorm:"not null"`
	Stock      int64  `gorm:"not null;check:chk_product_variants_stock,stock >= 0"`
	Active     bool   `gorm:"not null"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (variantRow) TableName() string { return "product_variants" }

// catalogueRow holds a product's options and images (JSON lists).
type catalogueRow struct {
	ProductID string `gorm:"primaryKey;size:64"`
	Options   string `gorm:"type:text;not null"`
	Images    string `gorm:"type:text;not null"`
	UpdatedAt time.Time
}

func (catalogueRow) TableName() string { return "product_catalogues" }

// defaultVariantID names a product's default variant, derived from the
// product's id so that the migration that creates it can run again.
func defaultVariantID(productID string) string {
	return variantIDPrefix + strings.TrimPrefix(productID, productIDPrefix)
}

// moveStockToDefaultVariants gives every product without a variant its
// default variant, holding the product's price and stock, and zeroes the
// product's own counter in the same statement batch: a product's stock is
// then counted in one place only. Running it again finds nothing to do.
func moveStockToDefaultVariants(tx *gorm.DB) error {
	var products []productRow
	err := tx.Where("NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = products.id)").
		Find(&products).Error
	if err != nil {
		return err
	}
	for _, p := range products {
		t := now()
		v := variantRow{ID: defaultVariantID(p.ID), ProductID: p.ID, Options: "{}", PriceMinor: p.PriceMinor,
			Stock: p.Stock, Active: true, CreatedAt: t, UpdatedAt: t}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&v)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			if err := tx.Model(&productRow{}).Where("id = ?", p.ID).Update("stock", 0).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateCatalogueProduct adds an active product with its options, variants
// (at least its default one) and images, in one transaction. p must be
// validated (models.NewCatalogueProduct.Validate).
func (s *Store) CreateCatalogueProduct(ctx context.Context, merchantID string, p models.NewCatalogueProduct) (models.ProductDetail, error) {
	t := now()
	row := productRow{
		ID: newID(productIDPrefix), MerchantID: merchantID, Title: p.Title, Description: p.Description,
		PriceMinor: p.Price, Currency: p.Currency, MaxPerOrder: int64(p.MaxPerOrder), Active: true,
		CreatedAt: t, UpdatedAt: t,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Create(&catalogueRow{ProductID: row.ID, Options: mustJSON(orEmpty(p.Options)),
			Images: mustJSON(orEmpty(p.Images)), UpdatedAt: t}).Error; err != nil {
			return err
		}
		for i, nv := range p.Variants {
			id := newID(variantIDPrefix)
			if len(p.Options) == 0 {
				id = defaultVariantID(row.ID)
			}
			if err := tx.Create(newVariantRow(id, row.ID, int64(i), nv, t)).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return models.ProductDetail{}, dbError("create product", "product", err)
	}
	return s.ProductDetail(ctx, row.ID)
}

func newVariantRow(id, productID string, position int64, nv models.NewVariant, t time.Time) *variantRow {
	return &variantRow{ID: id, ProductID: productID, Position: position, SKU: nv.SKU,
		Options: mustJSON(orEmptyMap(nv.Options)), PriceMinor: nv.Price, Stock: int64(nv.Stock),
		Active: nv.Active == nil || *nv.Active, CreatedAt: t, UpdatedAt: t}
}

// ProductDetail returns a product with its options, variants (in the
// merchant's order) and images. Product.Stock is then the stock of its
// active variants.
func (s *Store) ProductDetail(ctx context.Context, id string) (models.ProductDetail, error) {
	db := s.db.WithContext(ctx)
	// The product and its catalogue entry in one statement: pricing a
	// purchase reads them on the buyer's waiting path.
	var p struct {
		Product          productRow `gorm:"embedded"`
		CatalogueOptions string
		CatalogueImages  string
	}
	err := db.Table("products").
		Select("products.*, COALESCE(c.options, '') AS catalogue_options, COALESCE(c.images, '') AS catalogue_images").
		Joins("LEFT JOIN product_catalogues c ON c.product_id = products.id").
		Where("products.id = ?", id).Take(&p).Error
	if err != nil {
		return models.ProductDetail{}, dbError("product", "product", err)
	}
	cat := catalogueRow{Options: p.CatalogueOptions, Images: p.CatalogueImages}
	var rows []variantRow
	if err := db.Where("product_id = ?", id).Order("position, id").Find(&rows).Error; err != nil {
		return models.ProductDetail{}, dbError("product variants", "product", err)
	}
	d := models.ProductDetail{Product: p.Product.toModel(), Options: []models.Option{}, Images: []string{}, Variants: make([]models.Variant, len(rows))}
	if cat.Options != "" {
		_ = json.Unmarshal([]byte(cat.Options), &d.Options)
		_ = json.Unmarshal([]byte(cat.Images), &d.Images)
	}
	d.Stock = 0
	for i, r := range rows {
		d.Variants[i] = r.toModel()
		if r.Active {
			d.Stock += int(r.Stock)
		}
	}
	return d, nil
}

// variantStock is the stock of a product's active variants, the product's
// Stock once it has variants.
func variantStock(db *gorm.DB, productID string) (int, error) {
	var total int64
	err := db.Model(&variantRow{}).Select("COALESCE(SUM(stock), 0)").
		Where("product_id = ? AND active = ?", productID, true).Scan(&total).Error
	return int(total), err
}

// variantStocks is variantStock of several products at once.
func variantStocks(db *gorm.DB, productIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(productIDs) == 0 {
		return out, nil
	}
	var sums []struct {
		ProductID string
		Total     int64
	}
	err := db.Model(&variantRow{}).Select("product_id, COALESCE(SUM(stock), 0) AS total").
		Where("product_id IN ? AND active = ?", productIDs, true).Group("product_id").Scan(&sums).Error
	for _, s := range sums {
		out[s.ProductID] = int(s.Total)
	}
	return out, err
}

// Variant returns a variant by id, of whichever product.
func (s *Store) Variant(ctx context.Context, id string) (models.Variant, error) {
	var r variantRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return models.Variant{}, dbError("variant", "variant", err)
	}
	return r.toModel(), nil
}

// merchantProduct checks that productID is one of merchantID's products
// (another merchant's is not found, so ids cannot be probed) and locks its
// row to the end of tx, so that changes to one product's variants (two
// merchants' tabs adding the same combination) take turns.
func merchantProduct(tx *gorm.DB, merchantID, productID string) (productRow, error) {
	var p productRow
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("id = ? AND merchant_id = ?", productID, merchantID).Take(&p).Error
	return p, err
}

// UpdateProduct changes a merchant's product: title, description, images,
// active. u must be validated.
func (s *Store) UpdateProduct(ctx context.Context, merchantID, productID string, u models.ProductUpdate) (models.ProductDetail, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := merchantProduct(tx, merchantID, productID); err != nil {
			return err
		}
		t := now()
		changes := map[string]any{"updated_at": t}
		if u.Title != nil {
			changes["title"] = *u.Title
		}
		if u.Description != nil {
			changes["description"] = *u.Description
		}
		if u.Active != nil {
			changes["active"] = *u.Active
		}
		if err := tx.Model(&productRow{}).Where("id = ?", productID).Updates(changes).Error; err != nil {
			return err
		}
		if u.Images == nil {
			return nil
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "product_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"images", "updated_at"}),
		}).Create(&catalogueRow{ProductID: productID, Options: "[]", Images: mustJSON(orEmpty(*u.Images)), UpdatedAt: t}).Error
	})
	if err != nil {
		return models.ProductDetail{}, dbError("update product", "product", err)
	}
	return s.ProductDetail(ctx, productID)
}

// AddVariant adds a variant to a merchant's product with options: one value
// of each option, a combination no other variant has, at most
// models.MaxVariants in all. nv's price 0 takes the product's.
func (s *Store) AddVariant(ctx context.Context, merchantID, productID string, nv models.NewVariant) (models.Variant, error) {
	var out variantRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := merchantProduct(tx, merchantID, productID)
		if err != nil {
			return err
		}
		var cat catalogueRow
		if err := tx.Where("product_id = ?", productID).Limit(1).Find(&cat).Error; err != nil {
			return err
		}
		var options []models.Option
		_ = json.Unmarshal([]byte(cat.Options), &options)
		if len(options) == 0 {
			return models.Invalid("too_many_variants", "a product without options has exactly one variant")
		}
		if nv.Price == 0 {
			nv.Price = p.PriceMinor
		}
		d := models.NewCatalogueProduct{NewProduct: models.NewProduct{Title: p.Title, Price: p.PriceMinor, Currency: p.Currency},
			Options: options, Variants: []models.NewVariant{nv}}
		var existing []variantRow
		if err := tx.Where("product_id = ?", productID).Find(&existing).Error; err != nil {
			return err
		}
		for _, r := range existing {
			d.Variants = append(d.Variants, models.NewVariant{SKU: r.SKU, Options: r.toModel().Options, Price: r.PriceMinor})
		}
		if err := d.Validate(); err != nil {
			return err
		}
		out = *newVariantRow(newID(variantIDPrefix), productID, int64(len(existing)), d.Variants[0], now())
		return tx.Create(&out).Error
	})
	if err != nil {
		return models.Variant{}, dbError("add variant", "product", err)
	}
	return out.toModel(), nil
}

// UpdateVariant changes a variant's SKU, price or active flag. u must be
// validated. A variant of another merchant's product is not found.
func (s *Store) UpdateVariant(ctx context.Context, merchantID, productID, variantID string, u models.VariantUpdate) (models.Variant, error) {
	changes := map[string]any{"updated_at": now()}
	if u.SKU != nil {
		changes["sku"] = *u.SKU
	}
	if u.Price != nil {
		changes["price_minor"] = *u.Price
	}
	if u.Active != nil {
		changes["active"] = *u.Active
	}
	return s.changeVariant(ctx, merchantID, productID, variantID, changes)
}

// Restock adds units to a variant's stock. It is one increment in the
// database, so it never loses a purchase's concurrent decrement.
func (s *Store) Restock(ctx context.Context, merchantID, productID, variantID string, units int) (models.Variant, error) {
	if err := models.CheckRestock(units); err != nil {
		return models.Variant{}, err
	}
	return s.changeVariant(ctx, merchantID, productID, variantID,
		map[string]any{"stock": gorm.Expr("stock + ?", units), "updated_at": now()})
}

func (s *Store) changeVariant(ctx context.Context, merchantID, productID, variantID string, changes map[string]any) (models.Variant, error) {
	db := s.db.WithContext(ctx)
	res := db.Model(&variantRow{}).
		Where("id = ? AND product_id = ? AND product_id IN (SELECT id FROM products WHERE merchant_id = ?)", variantID, productID, merchantID).
		Updates(changes)
	if res.Error != nil {
		return models.Variant{}, dbError("change variant", "variant", res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Variant{}, models.NotFound("variant")
	}
	return s.Variant(ctx, variantID)
}

// reservedVariant is the variant an order's stock comes from: the one its
// row names, or its product's first for orders validated before variants.
func reservedVariant(tx *gorm.DB, orderID, productID string) (string, error) {
	var o orderRow
	err := tx.Select("variant_id").Where("id = ?", orderID).Limit(1).Find(&o).Error
	if err != nil || o.VariantID != "" {
		return o.VariantID, err
	}
	return firstVariant(tx, productID)
}

func firstVariant(tx *gorm.DB, productID string) (string, error) {
	var v variantRow
	err := tx.Select("id").Where("product_id = ?", productID).Order("position, id").Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", models.NotFound("product")
	}
	return v.ID, err
}

func (r variantRow) toModel() models.Variant {
	v := models.Variant{ID: r.ID, ProductID: r.ProductID, SKU: r.SKU, Options: map[string]string{},
		PriceMinor: r.PriceMinor, Stock: int(r.Stock), Active: r.Active}
	_ = json.Unmarshal([]byte(r.Options), &v.Options)
	return v
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data reaches it
	}
	return string(b)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
