package store

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// errAlreadyReserved rolls back a reservation transaction that found the
// order already holding stock; it never leaves ReserveStock.
var errAlreadyReserved = errors.New("store: order already holds a reservation")

// ReserveStock takes qty units of a product for an order, from the variant
// the order was validated with (its product's only variant for orders
// without one). Reserving again for
// the same order does nothing, so a retried activity never takes stock twice.
// Not enough stock is a sold_out error and changes nothing.
func (s *Store) ReserveStock(ctx context.Context, orderID, productID string, qty int) error {
	if qty <= 0 {
		return models.Invalid("invalid_quantity", "quantity must be at least 1")
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Claim the order's reservation first: a concurrent reservation for
		// the same order blocks on the primary key until this one commits,
		// then inserts nothing, so exactly one of them decrements.
		t := now()
		variantID, err := reservedVariant(tx, orderID, productID)
		if err != nil {
			return err
		}
		claim := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&stockReservationRow{
			OrderID: orderID, ProductID: productID, VariantID: variantID, Quantity: int64(qty), CreatedAt: t, UpdatedAt: t,
		})
		if claim.Error != nil {
			return claim.Error
		}
		if claim.RowsAffected == 0 {
			return sameReservation(tx, orderID, productID, qty)
		}
		// The condition and the decrement are one statement, so two orders
		// can never both take the last unit.
		take := tx.Model(&variantRow{}).
			Where("id = ? AND product_id = ? AND stock >= ?", variantID, productID, qty).
			Updates(map[string]any{"stock": gorm.Expr("stock - ?", qty), "updated_at": t})
		if take.Error != nil {
			return take.Error
		}
		if take.RowsAffected == 0 {
			return s.soldOutOrMissing(tx, productID)
		}
		return nil
	})
	if errors.Is(err, errAlreadyReserved) {
		return nil
	}
	return dbError("reserve stock", "product", err)
}

// sameReservation accepts a repeated reservation only if it asks for what the
// order still holds; anything else (a released reservation included) is a
// caller bug that must not pass as done.
func sameReservation(tx *gorm.DB, orderID, productID string, qty int) error {
	var held stockReservationRow
	if err := tx.Where("order_id = ?", orderID).Take(&held).Error; err != nil {
		return err
	}
	if held.Released {
		// The order's stock went back already (it was cancelled or gave
		// up): answering "reserved" would let it go on holding nothing.
		return models.Conflict("reservation_released", "the order's reservation was already released")
	}
	if held.ProductID != productID || held.Quantity != int64(qty) {
		return models.Conflict("reservation_mismatch",
			"order already holds %d of another product or quantity", held.Quantity)
	}
	return errAlreadyReserved
}

// soldOutOrMissing explains why a stock decrement matched no row.
func (s *Store) soldOutOrMissing(tx *gorm.DB, productID string) error {
	var n int64
	if err := tx.Model(&productRow{}).Where("id = ?", productID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return models.NotFound("product")
	}
	return models.Errorf(models.KindSoldOut, "sold_out", "not enough stock left")
}

// ReleaseStock gives an order's reserved stock back. Releasing twice, or for
// an order that reserved nothing, does nothing.
func (s *Store) ReleaseStock(ctx context.Context, orderID string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		t := now()
		// Flipping the flag conditionally is the guard: of two concurrent
		// releases only one sees a row affected and returns the stock.
		flip := tx.Model(&stockReservationRow{}).
			Where("order_id = ? AND released = ?", orderID, false).
			Updates(map[string]any{"released": true, "updated_at": t})
		if flip.Error != nil {
			return flip.Error
		}
		if flip.RowsAffected == 0 {
			return nil
		}
		var r stockReservationRow
		if err := tx.Where("order_id = ?", orderID).Take(&r).Error; err != nil {
			return err
		}
		variantID := r.VariantID
		if variantID == "" {
			// Reserved before variants existed: the migration moved that
			// stock to the product's default variant.
			var err error
			if variantID, err = firstVariant(tx, r.ProductID); err != nil {
				return err
			}
		}
		return tx.Model(&variantRow{}).
			Where("id = ?", variantID).
			Updates(map[string]any{"stock": gorm.Expr("stock + ?", r.Quantity), "updated_at": t}).Error
	})
	return dbError("release stock", "stock reservation", err)
}
