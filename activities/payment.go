package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
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

// Authorization is AuthorizeAndRecord's outcome: Stripe's intent, and the
// order as recorded authorized, when it was.
type Authorization struct {
	Intent payments.Intent
	Order  *models.Order `json:",omitempty"`
	// Announced: the merchant's event was kept with the record
	// (AuthorizeRecordAndAnnounce).
	Announced bool `json:",omitempty"`
}

// AuthorizeAndRecord is AuthorizePayment followed, when Stripe holds the
// money, by the order's authorized status record: one step on the buyer's
// waiting path instead of two. A record that fails costs nothing of the
// authorization: Order is nil and the workflow records the status itself.
func (a *Activities) AuthorizeAndRecord(ctx context.Context, req payments.AuthorizeRequest) (Authorization, error) {
	in, err := a.AuthorizePayment(ctx, req)
	if err != nil || in.Status != payments.IntentRequiresCapture {
		return Authorization{Intent: in}, err
	}
	return Authorization{Intent: in, Order: a.recordAfterStripe(ctx, AuthorizedChange(req.OrderID, in.ID))}, nil
}

// AuthorizeRecordAndAnnounce is AuthorizeAndRecord whose record also keeps
// the merchant's event ev (order.created) in the outbox, in the same
// transaction, carrying the order as recorded: the buyer's answer waits on
// no store write of its own for the news. A record that fails keeps no
// event either (Announced false), and the workflow sends it itself.
func (a *Activities) AuthorizeRecordAndAnnounce(ctx context.Context, req payments.AuthorizeRequest, ev NotifyInput) (Authorization, error) {
	in, err := a.AuthorizePayment(ctx, req)
	if err != nil || in.Status != payments.IntentRequiresCapture {
		return Authorization{Intent: in}, err
	}
	o, err := a.RecordStatusAndNotify(ctx, AuthorizedChange(req.OrderID, in.ID), ev, "")
	if err != nil {
		a.orderLog(ctx, req.OrderID).WarnContext(ctx, "recording the status failed; the workflow records it",
			"to", string(models.StatusAuthorized), "error", err)
		return Authorization{Intent: in}, nil
	}
	return Authorization{Intent: in, Order: &o, Announced: true}, nil
}

// AuthorizedChange is the status change of an order whose money Stripe
// holds under intentID.
func AuthorizedChange(orderID, intentID string) models.StatusChange {
	return models.StatusChange{OrderID: orderID, To: models.StatusAuthorized, Actor: models.ActorSystem, PaymentIntentID: intentID}
}

// CaptureInput is what CaptureAndRecord captures, and for whom.
type CaptureInput struct {
	OrderID  string
	IntentID string
	Actor    string // who accepted the order
	// AmountMinor is the order's amount: what was captured when Stripe's
	// answer does not say.
	AmountMinor    int64
	AttemptsBefore int32 `json:",omitempty"`
}

// Capture is CaptureAndRecord's outcome: Stripe's intent, and the order as
// recorded accepted, when it was.
type Capture struct {
	Intent payments.Intent
	Order  *models.Order `json:",omitempty"`
}

// CaptureAndRecord is CapturePayment followed by the order's accepted
// status record, as one step on the merchant's waiting path; like
// AuthorizeAndRecord, a record that fails is left to the workflow.
func (a *Activities) CaptureAndRecord(ctx context.Context, in CaptureInput) (Capture, error) {
	intent, err := a.CapturePayment(ctx, in.OrderID, in.IntentID, in.AttemptsBefore)
	if err != nil {
		return Capture{Intent: intent}, err
	}
	return Capture{Intent: intent, Order: a.recordAfterStripe(ctx, AcceptedChange(in, intent))}, nil
}

// AcceptedChange is the status change of an order whose money was captured
// as intent says.
func AcceptedChange(in CaptureInput, intent payments.Intent) models.StatusChange {
	captured := intent.AmountReceived
	if captured == 0 {
		captured = in.AmountMinor
	}
	return models.StatusChange{OrderID: in.OrderID, To: models.StatusAccepted, Actor: in.Actor,
		PaymentIntentID: in.IntentID, CapturedMinor: &captured}
}

// recordAfterStripe records c after a Stripe step succeeded; a record that
// fails is logged and left to the workflow (nil), since Stripe's answer
// stands either way.
func (a *Activities) recordAfterStripe(ctx context.Context, c models.StatusChange) *models.Order {
	o, err := a.Store.ApplyStatusChange(ctx, c)
	if err != nil {
		a.orderLog(ctx, c.OrderID).WarnContext(ctx, "recording the status failed; the workflow records it",
			"to", string(c.To), "error", err)
		return nil
	}
	return &o
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
