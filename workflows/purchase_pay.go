package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// The payment step's parts (pay, in purchase.go, runs them): validation
// with the stock reservation, and the Stripe steps, which a lean workflow
// runs as local activities first.

// validateAndReserve is the payment step's first half: the order is
// validated, its row created and its stock reserved in one local activity.
// ended reports that the purchase reached its outcome (refused, sold out,
// or given up); err, that the workflow is being cancelled.
func (p *purchase) validateAndReserve(ctx, dctx workflow.Context) (ended bool, err error) {
	var r activities.Reservation
	if err := p.writeWithFallback(dctx, purchaseStoreOptions, &r, acts.ValidateAndReserve, p.validateInput()); err != nil {
		if domainError(err) == nil {
			// An attempt that timed out may still have reserved: the
			// release that giving up runs is a no-op otherwise.
			p.saga.add(stepStock, p.releaseStock)
		}
		p.validationFailed(ctx, dctx, err)
		return true, nil
	}
	p.order = r.Order
	p.upsertOrderAttributes(ctx)
	if r.Refused != nil {
		p.stockRefused(dctx, r.Refused.Kind, r.Refused.Code, r.Refused.Message)
		return true, nil
	}
	p.saga.add(stepStock, p.releaseStock)
	return false, ctx.Err()
}

// validateThenReserve is validateAndReserve as workflows started before
// changeLeanHistory run it: two store steps.
func (p *purchase) validateThenReserve(ctx, dctx workflow.Context) (ended bool, err error) {
	var o models.Order
	if err := p.writeWithFallback(dctx, purchaseStoreOptions, &o, acts.ValidateOrder, p.validateInput()); err != nil {
		p.validationFailed(ctx, dctx, err)
		return true, nil
	}
	p.order = o
	p.upsertOrderAttributes(ctx)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err = p.writeWithFallback(dctx, purchaseStoreOptions, nil, acts.ReserveStock, o.ID, o.ProductID, o.Quantity)
	if err != nil {
		e := domainError(err)
		if e == nil {
			p.saga.add(stepStock, p.releaseStock)
			p.giveUp(dctx, err)
			return true, nil
		}
		p.stockRefused(dctx, e.Kind, e.Code, e.Message)
		return true, nil
	}
	p.saga.add(stepStock, p.releaseStock)
	return false, ctx.Err()
}

func (p *purchase) validateInput() activities.ValidateInput {
	return activities.ValidateInput{
		OrderID: p.in.OrderID, BuyerID: p.in.BuyerID, ProductID: p.in.ProductID, Quantity: p.in.Quantity,
		Shipping: p.in.Shipping, PaymentMethod: p.in.PaymentMethod,
		VariantID: p.in.VariantID, ShippingRate: p.in.ShippingRate, QuoteID: p.in.QuoteID,
	}
}

// validationFailed ends a purchase whose validation refused it, or whose
// store stayed unavailable.
func (p *purchase) validationFailed(ctx, dctx workflow.Context, err error) {
	if e := domainError(err); e != nil {
		p.endInvalid(ctx, e)
		return
	}
	p.giveUp(dctx, err)
}

// stockRefused ends a purchase whose stock could not be reserved.
func (p *purchase) stockRefused(ctx workflow.Context, kind models.Kind, code, message string) {
	p.commitSteps(ctx)
	if kind == models.KindSoldOut {
		p.end(ctx, models.StatusSoldOut, models.ActorSystem, "sold_out", "not enough stock left")
		return
	}
	p.end(ctx, models.StatusInvalid, models.ActorSystem, code, message)
}

// commitSteps, in a lean workflow, ends the workflow task before the
// purchase is undone. The first task runs validation, the reservation and
// the authorization as local activities, whose results are recorded only
// when the task completes; a task that failed after undoing them (the
// server refuses to complete a workflow while a Stripe signal is arriving;
// a worker dies) would run them again on top of their own undoing: reserve
// the stock it had given back, take an ended order for a new one. Once the
// task has completed, a retry of the next one replays them instead, and
// only the undoing, idempotent, runs again. It costs a declined or sold-out
// answer one workflow task; an authorized one none.
func (p *purchase) commitSteps(ctx workflow.Context) {
	if p.lean {
		_ = workflow.Sleep(ctx, time.Millisecond)
	}
}

// authorize holds the order's amount on the buyer's card (stripeStep). A
// lean workflow's authorization also records the authorized status when
// Stripe holds the money (AuthorizeAndRecord): recorded is the order as
// recorded then, nil when the workflow is to record it.
//
// announce, when set, is the merchant's order.created, kept with that
// record (AuthorizeRecordAndAnnounce); announced says it was.
func (p *purchase) authorize(ctx workflow.Context, announce *activities.NotifyInput, req payments.AuthorizeRequest) (_ payments.Intent, recorded *models.Order, announced bool, _ error) {
	args := func(before int32) []any {
		req.AttemptsBefore = before
		if announce != nil {
			return []any{req, *announce}
		}
		return []any{req}
	}
	if !p.lean {
		var intent payments.Intent
		err := p.stripeStep(ctx, p.timing.authorizeOptions(), &intent, acts.AuthorizePayment, args)
		return intent, nil, false, err
	}
	var auth activities.Authorization
	activity := any(acts.AuthorizeAndRecord)
	if announce != nil {
		activity = acts.AuthorizeRecordAndAnnounce
	}
	err := p.stripeStep(ctx, p.timing.authorizeOptions(), &auth, activity, args)
	return auth.Intent, auth.Order, auth.Announced, err
}

// stripeStep runs a Stripe activity with the regular options opts; args
// gives its arguments for a run whose attempts are numbered on from before.
// A lean workflow runs it first as a local activity, inside the workflow
// task already running, so whoever waits on it makes no round trip through
// the server for it; when those attempts run out without Stripe's word it
// goes on as a regular activity for what is left of opts' deadline, its
// attempts numbered on so that each keeps its own idempotency key.
func (p *purchase) stripeStep(ctx workflow.Context, opts workflow.ActivityOptions, result any, activity any, args func(before int32) []any) error {
	if p.lean {
		began := workflow.Now(ctx)
		err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localStripeOptions(opts)),
			activity, args(0)...).Get(ctx, result)
		if e := domainError(err); e != nil {
			// The SDK logs a regular activity's failure, not a local one's.
			p.logger.Info("Stripe step refused", "code", e.Code)
			return err
		}
		if err == nil {
			return nil
		}
		left := opts.ScheduleToCloseTimeout - workflow.Now(ctx).Sub(began)
		if left <= 0 {
			return err
		}
		p.logger.Warn("Stripe step did not answer as a local activity; retrying durably", "error", err)
		opts.ScheduleToCloseTimeout = left
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, args(localStripeAttempts)...).Get(ctx, result)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, args(0)...).Get(ctx, result)
}
