package activities

import (
	"context"

	"github.com/buybutton/checkout/failures"
)

// ReserveStock holds qty units of a product for an order. The store keys the
// reservation by order, so a retry never takes stock twice.
func (a *Activities) ReserveStock(ctx context.Context, orderID, productID string, qty int) error {
	return failures.ToTemporal(a.Store.ReserveStock(ctx, orderID, productID, qty))
}

// ReleaseStock gives an order's reserved units back; releasing twice is a no-op.
func (a *Activities) ReleaseStock(ctx context.Context, orderID string) error {
	return failures.ToTemporal(a.Store.ReleaseStock(ctx, orderID))
}
