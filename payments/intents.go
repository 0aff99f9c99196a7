package payments

import (
	"context"
	"errors"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// Authorize creates and confirms a PaymentIntent with manual capture, so the
// money is only held until the merchant accepts the order.
//
// A decline returns a KindPaymentDeclined error together with the intent as
// far as Stripe reported it (its ID, when known), so the caller can record it.
// When the card needs 3-D Secure the intent comes back with status
// requires_action, its client secret and no error: the buyer's browser
// finishes the authentication.
//
// It is retrieve-then-act across attempts (r.Attempt, from 1). The first
// attempt creates under its own key. A later one follows an unknown outcome,
// so it first searches for the intent by the order's metadata and adopts
// it; finding none, it asks again under the previous attempt's key (Stripe
// replays an answer that was lost on the way), and when that key holds a
// server error — Stripe keeps a 500 under its key for a day — creates under
// this attempt's own key. Attempts span minutes, never the 24 hours after
// which Stripe forgets a key.
func (g *Gateway) Authorize(ctx context.Context, r AuthorizeRequest) (Intent, error) {
	if err := validateAuthorize(r); err != nil {
		return Intent{}, err
	}
	if r.Attempt <= 1 {
		return g.createIntent(ctx, r, AttemptKey(r.OrderID, "authorize", 1))
	}
	found, ok, err := g.FindIntentByOrder(ctx, r.OrderID)
	if err != nil {
		return Intent{}, err
	}
	if ok {
		return g.adoptIntent(ctx, r, found)
	}
	in, err := g.createIntent(ctx, r, AttemptKey(r.OrderID, "authorize", r.Attempt-1))
	if err == nil || !retryable(err) {
		return in, err
	}
	return g.createIntent(ctx, r, AttemptKey(r.OrderID, "authorize", r.Attempt))
}

// adoptIntent answers an authorization an earlier attempt made as creating
// it would have: a declined one with its decline, a saved card with its details.
func (g *Gateway) adoptIntent(ctx context.Context, r AuthorizeRequest, in Intent) (Intent, error) {
	if r.SaveCard && in.Card == nil {
		params := &stripe.PaymentIntentParams{}
		params.AddExpand("payment_method")
		params.Context = ctx
		pi, err := g.sc.PaymentIntents.Get(in.ID, params)
		if err != nil {
			return Intent{}, classify(err)
		}
		in = toIntent(pi)
	}
	if in.Status == string(stripe.PaymentIntentStatusRequiresPaymentMethod) {
		code := in.LastErrorCode
		if code == "" {
			code = "card_declined"
		}
		return in, &models.Error{Kind: models.KindPaymentDeclined, Code: code, Message: declineMessage(code)}
	}
	return in, nil
}

func (g *Gateway) createIntent(ctx context.Context, r AuthorizeRequest, key string) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(r.Amount.Amount),
		Currency:           stripe.String(strings.ToLower(r.Amount.Currency)),
		PaymentMethod:      stripe.String(r.PaymentMethod),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		CaptureMethod:      stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
		Confirm:            stripe.Bool(true),
	}
	if r.Customer != "" {
		params.Customer = stripe.String(r.Customer)
	}
	if r.Description != "" {
		params.Description = stripe.String(r.Description)
	}
	if r.SaveCard {
		// Set up for later payments by the payment itself, as Stripe
		// recommends, rather than attached before use: issuers see one
		// authenticated charge. With a customer Stripe saves the card on it;
		// without one the card may be attached to a customer afterwards
		// (SaveOrderCard). The expanded method is the one to save: a test
		// token such as pm_card_visa mints a new one per use.
		params.SetupFutureUsage = stripe.String(string(stripe.PaymentIntentSetupFutureUsageOffSession))
		params.AddExpand("payment_method")
	}
	if r.Destination != "" {
		params.TransferData = &stripe.PaymentIntentTransferDataParams{Destination: stripe.String(r.Destination)}
		params.OnBehalfOf = stripe.String(r.Destination)
	}
	params.AddMetadata(MetadataOrderID, r.OrderID)
	params.AddMetadata(MetadataOperation, "authorize")
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx

	pi, err := g.sc.PaymentIntents.New(params)
	if err != nil {
		derr := classify(err)
		var se *stripe.Error
		if models.ErrorKind(derr) == models.KindPaymentDeclined && errors.As(err, &se) && se.PaymentIntent != nil {
			return toIntent(se.PaymentIntent), derr
		}
		return Intent{}, derr
	}
	in := toIntent(pi)
	// Some servers report a failed confirmation as a 200 whose intent is back
	// to requires_payment_method with the card error attached, not as a 402.
	if pi.Status == stripe.PaymentIntentStatusRequiresPaymentMethod && pi.LastPaymentError != nil &&
		pi.LastPaymentError.Type == stripe.ErrorTypeCard {
		return in, classify(pi.LastPaymentError)
	}
	return in, nil
}

func validateAuthorize(r AuthorizeRequest) error {
	switch {
	case r.OrderID == "":
		return models.Invalid("invalid_order", "order id is required")
	case r.Amount.Amount <= 0:
		return models.Invalid("invalid_amount", "amount must be positive")
	case r.Amount.Currency == "":
		return models.Invalid("invalid_currency", "currency is required")
	case r.PaymentMethod == "":
		return models.Invalid("payment_method_required", "a payment method is required")
	}
	return nil
}

// Capture takes the held money. Captures are all-or-nothing here: the order
// total never changes after authorization.
//
// attempt is the caller's try (Temporal's activity attempt). Every attempt
// after the first reads the intent before acting: already captured is done
// (an earlier attempt's answer was lost), requires_capture is captured under
// this attempt's own key, so a 500 Stripe cached under an earlier key is
// never replayed at it; anything else cannot be captured.
func (g *Gateway) Capture(ctx context.Context, orderID, intentID string, attempt int32) (Intent, error) {
	return g.CaptureWithFee(ctx, orderID, intentID, -1, attempt)
}

// CaptureWithFee is Capture for a destination charge: applicationFee (≥ 0)
// is what the platform keeps of the captured amount; the rest goes to the
// merchant's account. A negative fee sends none.
func (g *Gateway) CaptureWithFee(ctx context.Context, orderID, intentID string, applicationFee int64, attempt int32) (Intent, error) {
	if attempt > 1 {
		in, err := g.Retrieve(ctx, intentID)
		switch {
		case err != nil:
			return Intent{}, err
		case in.Status == IntentSucceeded:
			return in, nil
		case in.Status != IntentRequiresCapture:
			return Intent{}, stateConflict("capture", in.Status)
		}
	}
	return g.capture(ctx, orderID, intentID, AttemptKey(orderID, "capture", attempt), applicationFee)
}

func (g *Gateway) capture(ctx context.Context, orderID, intentID, key string, applicationFee int64) (Intent, error) {
	params := &stripe.PaymentIntentCaptureParams{}
	if applicationFee >= 0 {
		params.ApplicationFeeAmount = stripe.Int64(applicationFee)
	}
	params.AddMetadata(MetadataOrderID, orderID)
	params.AddMetadata(MetadataOperation, "capture")
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	pi, err := g.sc.PaymentIntents.Capture(intentID, params)
	if err != nil {
		return g.reconcile(ctx, intentID, IntentSucceeded, classify(err))
	}
	return toIntent(pi), nil
}

// Cancel releases the held money. An intent that is already canceled counts
// as success, so compensation can be retried freely. Like Capture, every
// attempt after the first reads the intent first and cancels under its own
// key. (Stripe's cancel takes no metadata.)
func (g *Gateway) Cancel(ctx context.Context, orderID, intentID string, attempt int32) (Intent, error) {
	if attempt > 1 {
		in, err := g.Retrieve(ctx, intentID)
		switch {
		case err != nil:
			return Intent{}, err
		case in.Status == IntentCanceled:
			return in, nil
		case in.Status == IntentSucceeded:
			return Intent{}, stateConflict("cancel", in.Status)
		}
	}
	return g.cancel(ctx, intentID, AttemptKey(orderID, "cancel", attempt))
}

func (g *Gateway) cancel(ctx context.Context, intentID, key string) (Intent, error) {
	params := &stripe.PaymentIntentCancelParams{}
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	pi, err := g.sc.PaymentIntents.Cancel(intentID, params)
	if err != nil {
		return g.reconcile(ctx, intentID, IntentCanceled, classify(err))
	}
	return toIntent(pi), nil
}

// stateConflict is what Stripe would answer acting on an intent in status.
func stateConflict(action, status string) error {
	return &models.Error{Kind: models.KindConflict, Code: errUnexpectedState,
		Message: "the payment is " + status + " and cannot be " + map[string]string{"capture": "captured", "cancel": "canceled"}[action]}
}

// Retrieve reads an intent's current state.
func (g *Gateway) Retrieve(ctx context.Context, intentID string) (Intent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := g.sc.PaymentIntents.Get(intentID, params)
	if err != nil {
		return Intent{}, classify(err)
	}
	return toIntent(pi), nil
}

// reconcile decides a failed capture or cancel by looking at the intent.
// After a timeout or 5xx the request may have gone through at Stripe; after
// an unexpected-state answer an earlier attempt (under another key, or from
// the dashboard) may already have done the work. Either way, if the intent
// shows the wanted outcome the step is done. Otherwise the original error
// stands, since it explains the failure better than the lookup.
func (g *Gateway) reconcile(ctx context.Context, intentID, want string, cause error) (Intent, error) {
	var e *models.Error
	if !errors.As(cause, &e) || !(e.Kind == models.KindUnavailable || e.Code == errUnexpectedState) {
		return Intent{}, cause
	}
	in, err := g.Retrieve(ctx, intentID)
	if err == nil && in.Status == want {
		return in, nil
	}
	return Intent{}, cause
}

func toIntent(pi *stripe.PaymentIntent) Intent {
	in := Intent{
		ID:               pi.ID,
		Status:           string(pi.Status),
		Amount:           pi.Amount,
		AmountCapturable: pi.AmountCapturable,
		AmountReceived:   pi.AmountReceived,
		Currency:         string(pi.Currency),
	}
	// The client secret lets a browser act on the intent; hand it out only
	// when the buyer has something to do, so it does not spread into logs
	// and workflow history needlessly.
	if pi.Status == stripe.PaymentIntentStatusRequiresAction {
		in.ClientSecret = pi.ClientSecret
		if pi.NextAction != nil {
			in.NextActionType = string(pi.NextAction.Type)
		}
	}
	if pi.PaymentMethod != nil && pi.PaymentMethod.Card != nil {
		c := cardOf(pi.PaymentMethod)
		in.Card = &c
	}
	if pi.LastPaymentError != nil {
		in.LastErrorCode = string(pi.LastPaymentError.DeclineCode)
		if in.LastErrorCode == "" {
			in.LastErrorCode = string(pi.LastPaymentError.Code)
		}
	}
	return in
}
