package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// setup registers the query, the updates and the Stripe signal before the
// first step runs, so an update-with-start finds its handler in the first
// workflow task.
func (p *purchase) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (models.Order, error) { return p.order, nil }); err != nil {
		return err
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdatePay, p.payUpdate, nil},
		{UpdateAccept, p.accept, p.validateAccept},
		{UpdateReject, p.reject, p.validateReject},
		{UpdateShip, p.ship, p.validateShip},
		{UpdateDeliver, p.deliver, p.validateDeliver},
		{UpdateCancel, p.cancel, p.validateCancel},
		{UpdateResolve, p.resolve, p.validateResolve},
		{UpdateRefund, p.refund, p.validateRefund},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler,
			workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return err
		}
	}
	signals := workflow.GetSignalChannel(ctx, SignalPaymentIntent)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s PaymentIntentSignal
			if !signals.Receive(ctx, &s) {
				return
			}
			// Only a prompt to re-read the intent: the event's own status may
			// be stale by the time it arrives. Once the payment has settled
			// nobody reads them, so they are not kept.
			if p.paid == nil || p.awaitingPayment() {
				p.intentNudges = append(p.intentNudges, s.IntentID)
			}
		}
	})
	p.listenForRefunds(ctx)
	p.listenForStripeNews(ctx)
	return nil
}

// payUpdate answers once the payment step settles; asked again it gives the
// same answer.
func (p *purchase) payUpdate(ctx workflow.Context) (PayResult, error) {
	if err := workflow.Await(ctx, func() bool { return p.paid != nil || p.payErr != nil }); err != nil {
		return PayResult{}, err
	}
	if p.paid == nil {
		return PayResult{}, failures.ToTemporal(models.Errorf(models.KindUnavailable, "payment_unavailable",
			"the purchase could not be processed; try again"))
	}
	return *p.paid, nil
}

// admit decides whether the order may move to status to now. done means it
// already has: the update is a repeat and answers the current order.
func (p *purchase) admit(to models.OrderStatus) (done bool, err error) {
	if p.order.Status == to {
		return true, nil
	}
	return false, models.CheckTransition(p.order.Status, to)
}

func (p *purchase) validateAccept(AcceptInput) error {
	_, err := p.admit(models.StatusAccepted)
	return failures.ToTemporal(err)
}

// accept captures the held money.
func (p *purchase) accept(ctx workflow.Context, in AcceptInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if done, err := p.admit(models.StatusAccepted); done || err != nil {
		return p.order, failures.ToTemporal(err)
	}
	dctx := detached(ctx)
	capture := activities.CaptureInput{OrderID: p.order.ID, IntentID: p.intentID, Actor: in.Actor, AmountMinor: p.order.AmountMinor}
	var got activities.Capture
	var err error
	if p.lean {
		err = p.stripeStep(dctx, captureOptions, &got, acts.CaptureAndRecord, func(before int32) []any {
			capture.AttemptsBefore = before
			return []any{capture}
		})
	} else {
		err = p.stripeStep(dctx, captureOptions, &got.Intent, acts.CapturePayment, func(before int32) []any {
			return []any{p.order.ID, p.intentID, before}
		})
	}
	if err != nil {
		p.logger.Error("Capture failed", "error", err)
		p.end(dctx, models.StatusPaymentFailed, models.ActorSystem, "capture_failed", "the payment could not be captured")
		p.notify(ctx, EventOrderPaymentFailed)
		return p.order, failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "capture_failed",
			"the payment could not be captured; the order was cancelled"))
	}
	p.saga.replace(stepVoid, stepRefund, p.refundPayment)
	p.recorded(dctx, got.Order, activities.AcceptedChange(capture, got.Intent))
	return p.order, nil
}

func (p *purchase) validateReject(RejectInput) error {
	_, err := p.admit(models.StatusRejected)
	return failures.ToTemporal(err)
}

// reject voids the authorization and gives the stock back.
func (p *purchase) reject(ctx workflow.Context, in RejectInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if done, err := p.admit(models.StatusRejected); done || err != nil {
		return p.order, failures.ToTemporal(err)
	}
	p.end(detached(ctx), models.StatusRejected, in.Actor, "", in.Reason)
	return p.order, nil
}

// admitShipment is admit for ship: shipping needs a carrier and a tracking
// number, and a repeat must name the same parcel.
func (p *purchase) admitShipment(in ShipInput) (done bool, err error) {
	if in.Carrier == "" || in.TrackingNumber == "" {
		return false, models.Invalid("invalid_shipment", "carrier and tracking_number are required")
	}
	if p.order.Status == models.StatusShipped &&
		(p.order.Carrier != in.Carrier || p.order.TrackingNumber != in.TrackingNumber) {
		return false, models.Conflict("already_shipped", "order already shipped with another tracking number")
	}
	return p.admit(models.StatusShipped)
}

func (p *purchase) validateShip(in ShipInput) error {
	_, err := p.admitShipment(in)
	return failures.ToTemporal(err)
}

func (p *purchase) ship(ctx workflow.Context, in ShipInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if done, err := p.admitShipment(in); done || err != nil {
		return p.order, failures.ToTemporal(err)
	}
	p.record(detached(ctx), models.StatusChange{To: models.StatusShipped, Actor: in.Actor,
		Carrier: in.Carrier, TrackingNumber: in.TrackingNumber, TrackingURL: in.TrackingURL})
	return p.order, nil
}

// changeNotifyDelivered marks the version of the workflow that tells the
// merchant about delivery.
const changeNotifyDelivered = "notify-order-delivered"

func (p *purchase) validateDeliver(DeliverInput) error {
	_, err := p.admit(models.StatusDelivered)
	return failures.ToTemporal(err)
}

func (p *purchase) deliver(ctx workflow.Context, in DeliverInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if done, err := p.admit(models.StatusDelivered); done || err != nil {
		return p.order, failures.ToTemporal(err)
	}
	change := p.withNextEvent(models.StatusChange{To: models.StatusDelivered, Actor: in.Actor})
	if p.storeOutbox {
		p.outbox.recordAndPublish(detached(ctx), p, change, EventOrderDelivered)
		return p.order, nil
	}
	p.record(detached(ctx), change)
	// Histories from before order.delivered existed must replay without it.
	if p.lean || workflow.GetVersion(ctx, changeNotifyDelivered, workflow.DefaultVersion, 1) == 1 {
		p.notify(ctx, EventOrderDelivered)
	}
	return p.order, nil
}

func (p *purchase) validateCancel(CancelInput) error {
	_, err := p.admit(models.StatusCancelled)
	return failures.ToTemporal(err)
}

// cancel is the buyer's: before capture the hold is voided, after it the
// money is refunded; the stock goes back either way.
func (p *purchase) cancel(ctx workflow.Context, in CancelInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if done, err := p.admit(models.StatusCancelled); done || err != nil {
		return p.order, failures.ToTemporal(err)
	}
	p.end(detached(ctx), models.StatusCancelled, in.Actor, "", in.Reason)
	if p.merchantNotified {
		p.notify(ctx, EventOrderCancelled)
	}
	return p.order, nil
}

func (p *purchase) validateResolve(in ResolveInput) error {
	if in.Action != ResolveRetry && in.Action != ResolveResolved {
		return failures.ToTemporal(models.Invalid("invalid_action", "action must be %q or %q", ResolveRetry, ResolveResolved))
	}
	if p.attention == nil {
		return failures.ToTemporal(models.Conflict("not_needing_attention", "order is %s, not %s", p.order.Status, models.StatusNeedsAttention))
	}
	return nil
}

// resolve returns an order that needs attention to the ending it had:
// retry runs the failed compensation again (in the background, as the
// first time), resolved closes it on an operator's word.
func (p *purchase) resolve(ctx workflow.Context, in ResolveInput) (models.Order, error) {
	if err := p.lock.Lock(ctx); err != nil {
		return models.Order{}, err
	}
	defer p.lock.Unlock()
	if err := p.validateResolve(in); err != nil {
		return p.order, err
	}
	a := p.attention
	p.attention = nil
	detail := "resolved by an operator"
	if in.Action == ResolveRetry {
		detail = "retrying: " + a.step.step
	}
	if in.Note != "" {
		detail += ": " + in.Note
	}
	dctx := detached(ctx)
	p.record(dctx, models.StatusChange{To: a.ending, Actor: in.Actor, Detail: detail,
		FailureCode: a.failureCode, ClearFailureCode: a.failureCode == ""})
	if in.Action == ResolveRetry {
		p.giveBack(dctx, a.step)
	}
	return p.order, nil
}

// listenForRefunds serves the retired RefundWorkflow's signal: it cancels
// the order when such a refund returned all of it before shipping. A refund
// after shipping or a partial one changes nothing here.
func (p *purchase) listenForRefunds(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalRefunded)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s RefundedSignal
			if !ch.Receive(ctx, &s) {
				return
			}
			p.cancelRefunded(ctx, s)
		}
	})
}

func (p *purchase) cancelRefunded(ctx workflow.Context, s RefundedSignal) {
	if err := p.lock.Lock(ctx); err != nil {
		return
	}
	defer p.lock.Unlock()
	if p.order.Status != models.StatusAccepted {
		return
	}
	detail := "fully refunded before shipping"
	if s.Reason != "" {
		detail += ": " + s.Reason
	}
	p.end(detached(ctx), models.StatusCancelled, s.Actor, "refunded", detail)
	if p.merchantNotified {
		p.notify(ctx, EventOrderCancelled)
	}
}
