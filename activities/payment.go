package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/payments"
)

// AuthorizePayment holds the order's amount on the buyer's card. A retry
// searches Stripe for the intent an earlier attempt made before creating
// one, under keys scoped to the attempt (payments.Gateway.Authorize).
func (a *Activities) AuthorizePayment(ctx context.Context, req payments.AuthorizeRequest) (payments.Intent, error) {
	req, err := a.withDestination(ctx, req)
	if err != nil {
		return payments.Intent{}, failures.ToTemporal(err)
	}
	req.Attempt = req.AttemptsBefore + attempt(ctx)
	in, err := a.Payments.Authorize(ctx, req)
	return in, failures.ToTemporal(err)
}

// CapturePayment takes the held money once the merchant accepts. A retry
// reads the intent first and adopts a capture an earlier attempt made, and
// otherwise captures under its own attempt's key, so a 500 Stripe cached
// under an earlier key does not fail every retry for a day. attemptsBefore
// counts the tries made before this activity was scheduled (as a local
// activity); its attempts are numbered on from there.
func (a *Activities) CapturePayment(ctx context.Context, orderID, intentID string, attemptsBefore int32) (payments.Intent, error) {
	if in, done, err := a.captureDestination(ctx, orderID, intentID); done || err != nil {
		return in, failures.ToTemporal(err)
	}
	in, err := a.Payments.Capture(ctx, orderID, intentID, attemptsBefore+attempt(ctx))
	return in, failures.ToTemporal(err)
}

// VoidAuthorization lets go of held money that will not be captured; like
// CapturePayment, a retry reads the intent first (already canceled is done).
func (a *Activities) VoidAuthorization(ctx context.Context, orderID, intentID string) (payments.Intent, error) {
	in, err := a.Payments.Cancel(ctx, orderID, intentID, attempt(ctx))
	return in, failures.ToTemporal(err)
}

// attempt is the activity's attempt number (from 1), which scopes its
// Stripe idempotency keys; outside an activity it is 1.
func attempt(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 1
	}
	return activity.GetInfo(ctx).Attempt
}
