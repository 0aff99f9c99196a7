package activities

import (
	"context"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// ReserveStock holds qty units of a product for an order. The store keys the
// reservation by order, so a retry never takes stock twice.
func (a *Activities) ReserveStock(ctx context.Context, orderID, productID string, qty int) error {
	return failures.ToTemporal(a.Store.ReserveStock(ctx, orderID, productID, qty))
}

// Reservation is ValidateAndReserve's outcome: the validated order, and
// why its stock could not be reserved, if it could not (sold out, say).
type Reservation struct {
	Order   models.Order
	Refused *StockRefusal `json:",omitempty"`
}

// StockRefusal is a reservation's final refusal (models.Error without its
// cause, which does not cross Temporal).
type StockRefusal struct {
	Kind    models.Kind
	Code    string
	Message string
}

// ValidateAndReserve is ValidateOrder then ReserveStock, as one step: one
// local activity on the buyer's waiting path instead of two. Both halves
// are idempotent, so a retry redoes neither. A validation that refuses is
// its error, as for ValidateOrder; a reservation that refuses is in the
// result, because the order row exists by then and records the outcome.
func (a *Activities) ValidateAndReserve(ctx context.Context, in ValidateInput) (Reservation, error) {
	o, err := a.validateOrder(ctx, in)
	if err != nil {
		return Reservation{}, failures.ToTemporal(err)
	}
	err = a.Store.ReserveStock(ctx, o.ID, o.ProductID, o.Quantity)
	if e, final := failures.Final(err); final {
		return Reservation{Order: o, Refused: &StockRefusal{Kind: e.Kind, Code: e.Code, Message: e.Message}}, nil
	}
	if err != nil {
		return Reservation{}, failures.ToTemporal(err)
	}
	return Reservation{Order: o}, nil
}

// ReleaseStock gives an order's reserved units back; releasing twice is a no-op.
func (a *Activities) ReleaseStock(ctx context.Context, orderID string) error {
	return failures.ToTemporal(a.Store.ReleaseStock(ctx, orderID))
}
