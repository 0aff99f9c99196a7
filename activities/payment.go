package activities

import (
	"context"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/payments"
)

// AuthorizePayment holds the order's amount on the buyer's card.
func (a *Activities) AuthorizePayment(ctx context.Context, req payments.AuthorizeRequest) (payments.Intent, error) {
	in, err := a.Payments.Authorize(ctx, req)
	return in, failures.ToTemporal(err)
}

// CapturePayment takes the held money once the merchant accepts.
func (a *Activities) CapturePayment(ctx context.Context, orderID, intentID string) (payments.Intent, error) {
	in, err := a.Payments.Capture(ctx, orderID, intentID)
	return in, failures.ToTemporal(err)
}

// VoidAuthorization lets go of held money that will not be captured.
func (a *Activities) VoidAuthorization(ctx context.Context, orderID, intentID string) (payments.Intent, error) {
	in, err := a.Payments.Cancel(ctx, orderID, intentID)
	return in, failures.ToTemporal(err)
}
