package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// ProfileCardWorkflowName is the card replacement workflow as the API and Temporal UI see it.
const ProfileCardWorkflowName = "ProfileCardWorkflow"

// UpdateCardResult answers once the new card is saved or refused; the old
// card is detached after that, without the buyer waiting for it.
// CardResultUpdateID is its id, so every retry of a request reaches the same update.
const (
	UpdateCardResult   = "card-result"
	CardResultUpdateID = "card-result"
)

// ProfileCardWorkflowID names one card change: a buyer's request, both
// hashed so the id carries no personal data and a retry of the request finds
// the same workflow.
func ProfileCardWorkflowID(buyerID, requestKey string) string {
	return "profile-card-" + models.TextID(buyerID) + "-" + models.TextID(requestKey)
}

// ProfileCardInput is what a card change needs: the profile as the API read
// it and the new card. Stripe ids are not personal data on their own.
type ProfileCardInput struct {
	ProfileID          string `json:"profile_id"`
	BuyerID            string `json:"buyer_id"`
	CustomerID         string `json:"customer_id,omitempty"` // empty: a customer is created
	OldPaymentMethodID string `json:"old_payment_method_id,omitempty"`
	PaymentMethod      string `json:"payment_method"`
}

// ProfileCardResult is the outcome of a card change. A refused card is an
// outcome, not a workflow failure: FailureKind/Code/Message say why.
type ProfileCardResult struct {
	Card           payments.Card `json:"card"`
	CustomerID     string        `json:"customer_id,omitempty"`
	FailureKind    models.Kind   `json:"failure_kind,omitempty"`
	FailureCode    string        `json:"failure_code,omitempty"`
	FailureMessage string        `json:"failure_message,omitempty"`
}

// Err is the refusal as a domain error, nil when the card was replaced.
func (r ProfileCardResult) Err() error {
	if r.FailureKind == "" {
		return nil
	}
	return &models.Error{Kind: r.FailureKind, Code: r.FailureCode, Message: r.FailureMessage}
}

// cardChangeOptions: the buyer waits on the PUT, so Stripe trouble gives up
// within half a minute and the saved card stays as it was.
var cardChangeOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	HeartbeatTimeout:       attemptHeartbeat,
	ScheduleToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    500 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    5,
	},
}

// ProfileCardWorkflow replaces a saved profile's card: attach the new card to
// the buyer's Stripe customer (creating one if the profile has none), record
// it on the profile, and only then detach the old card, so at every moment
// the profile names a card that can be charged. A refused card leaves the
// profile and the old card as they were; anything attached for it is undone.
// Stripe idempotency keys are the workflow id plus the step.
func ProfileCardWorkflow(ctx workflow.Context, in ProfileCardInput) (ProfileCardResult, error) {
	var (
		res  ProfileCardResult
		done bool
	)
	if err := workflow.SetUpdateHandler(ctx, UpdateCardResult, func(ctx workflow.Context) (ProfileCardResult, error) {
		err := workflow.Await(ctx, func() bool { return done })
		return res, err
	}); err != nil {
		return ProfileCardResult{}, err
	}
	c := cardChange{in: in, key: workflow.GetInfo(ctx).WorkflowExecution.ID}
	steps := detached(ctx)
	var undo func(workflow.Context) error
	res, undo = c.replace(steps)
	done = true
	dctx := workflow.WithActivityOptions(steps, detachOptions)
	switch {
	case res.Err() != nil:
		// The old card stays the profile's card: only what was done for
		// the refused one is undone.
		if undo == nil {
			break
		}
		if err := undo(dctx); err != nil {
			workflow.GetLogger(ctx).Error("Undoing a refused card change failed", "error", err)
		}
	case in.OldPaymentMethodID != "" && in.OldPaymentMethodID != res.Card.ID:
		if err := workflow.ExecuteActivity(dctx, acts.DetachSavedCard, in.ProfileID, in.OldPaymentMethodID).Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("Detaching the replaced card failed", "error", err)
		}
	}
	_ = workflow.Await(steps, func() bool { return workflow.AllHandlersFinished(steps) })
	return res, nil
}

type cardChange struct {
	in  ProfileCardInput
	key string // the workflow id: every Stripe key is key + ":" + step
}

// replace runs the steps the buyer waits for. On refusal it returns what
// undoes the Stripe side, to run once the buyer has their answer.
func (c cardChange) replace(ctx workflow.Context) (ProfileCardResult, func(workflow.Context) error) {
	actx := workflow.WithActivityOptions(ctx, cardChangeOptions)
	customer, created := c.in.CustomerID, false
	if customer == "" {
		if err := workflow.ExecuteActivity(actx, acts.CreateProfileCustomer, c.in.ProfileID, c.key+":customer").
			Get(ctx, &customer); err != nil {
			return refused(err), nil
		}
		created = true
	}
	discard := func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(ctx, acts.DiscardCustomer, customer, c.key+":discard").Get(ctx, nil)
	}
	var card payments.Card
	if err := workflow.ExecuteActivity(actx, acts.AttachProfileCard, c.in.PaymentMethod, customer, c.key+":attach").
		Get(ctx, &card); err != nil {
		if created {
			return refused(err), discard
		}
		if domainError(err) != nil {
			return refused(err), nil // Stripe refused it: nothing was attached
		}
		if c.in.PaymentMethod == c.in.OldPaymentMethodID {
			return refused(err), nil // the profile's own card: it stays attached
		}
		// An attach that timed out may still have gone through at Stripe;
		// detaching a card that is not attached counts as done.
		return refused(err), func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, acts.DetachSavedCard, c.in.ProfileID, c.in.PaymentMethod).Get(ctx, nil)
		}
	}
	err := writeOnce(ctx, acts.ReplaceProfileCard, models.CardChange{
		BuyerID:            c.in.BuyerID,
		OldPaymentMethodID: c.in.OldPaymentMethodID,
		StripeCustomerID:   customer,
		PaymentMethodID:    card.ID,
		Card:               models.CardSummary{Brand: card.Brand, Last4: card.Last4, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear},
	})
	if err != nil {
		if created {
			return refused(err), discard
		}
		if card.ID == c.in.OldPaymentMethodID {
			return refused(err), nil // the profile's own card: it stays attached
		}
		return refused(err), func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(ctx, acts.DetachSavedCard, c.in.ProfileID, card.ID).Get(ctx, nil)
		}
	}
	return ProfileCardResult{Card: card, CustomerID: customer}, nil
}

// writeOnce runs a short store write as a local activity; the buyer is
// waiting, so its bounded attempts are all it gets.
func writeOnce(ctx workflow.Context, activity any, args ...any) error {
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localStoreOptions), activity, args...).Get(ctx, nil)
}

// refused turns a failed step into the buyer's answer: the domain error it
// carried, or "unavailable" when Stripe or the store did not answer.
func refused(err error) ProfileCardResult {
	e := domainError(err)
	if e == nil {
		e = models.Errorf(models.KindUnavailable, "card_change_unavailable",
			"the card could not be saved right now; the saved card is unchanged, try again")
	}
	return ProfileCardResult{FailureKind: e.Kind, FailureCode: e.Code, FailureMessage: e.Message}
}
