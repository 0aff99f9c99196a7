package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// acts names the activities: method values of a nil *Activities resolve to
// the activity names the worker registered, without the workflow holding any
// dependency.
var acts *activities.Activities

// codeStoreUnavailable is the failure code of a purchase that gave up
// because the store stayed unreachable through every retry.
const codeStoreUnavailable = "store_unavailable"

// PurchaseWorkflow drives one order from the Buy tap to delivery or to a
// consistent end: every path that does not deliver gives the stock back and
// voids or refunds the money. It is the one owner of the order's money and
// of its row. The whole process lives in the purchase*.go files:
//
//   - purchase.go: the state, the main line (pay, the merchant's decision,
//     the ship-by and auto-complete timers), the endings and compensations,
//     the store writes;
//   - purchase_pay.go: the payment step's parts: validation with the stock
//     reservation, and the Stripe steps (local activities first);
//   - purchase_handlers.go: the updates (pay, accept, reject, ship, deliver,
//     cancel, resolve) and the Stripe signals;
//   - purchase_money.go: refunds (the refund update, the cancel's refund of
//     the remainder) and Stripe's news of refunds and disputes;
//   - purchase_payment_action.go: waiting out 3-D Secure;
//   - purchase_lost_authorization.go: finding and voiding an authorization
//     whose answer was lost;
//   - purchase_outbox.go: the merchant's events, in sequence;
//   - purchase_saga.go: the compensations registered so far;
//   - purchase_profile.go, purchase_metrics.go: the saved profile, metrics;
//   - purchase_after_end.go: the EndedOrder workflow, which handles a late
//     refund or Stripe event once this workflow has ended.
//
// It is registered as PurchaseWorkflowName, and the same code as
// VersionedPurchaseWorkflowName runs the histories started before it.
func PurchaseWorkflow(ctx workflow.Context, in PurchaseInput) (models.Order, error) {
	return Timing{}.Purchase(ctx, in)
}

// VersionedPurchaseWorkflow is PurchaseWorkflow as registered under
// VersionedPurchaseWorkflowName, for the orders started before it: it asks
// which history shape each took.
func VersionedPurchaseWorkflow(ctx workflow.Context, in PurchaseInput) (models.Order, error) {
	return Timing{}.VersionedPurchase(ctx, in)
}

// Purchase is PurchaseWorkflow with the worker's timing.
func (t Timing) Purchase(ctx workflow.Context, in PurchaseInput) (models.Order, error) {
	return t.purchase(ctx, in, currentShape)
}

// VersionedPurchase is VersionedPurchaseWorkflow with the worker's timing.
func (t Timing) VersionedPurchase(ctx workflow.Context, in PurchaseInput) (models.Order, error) {
	return t.purchase(ctx, in, askShape)
}

func (t Timing) purchase(ctx workflow.Context, in PurchaseInput, shape func(workflow.Context) workflow.Version) (models.Order, error) {
	p := newPurchase(ctx, in)
	p.timing = t
	p.shape = shape
	if err := p.setup(ctx); err != nil {
		return models.Order{}, err
	}
	return p.run(ctx)
}

// currentShape is the history shape of PurchaseWorkflowName: the newest,
// which a workflow of that type has from its start.
func currentShape(workflow.Context) workflow.Version { return leanStoreOutbox }

// askShape is VersionedPurchaseWorkflowName's: the version marker of
// changeLeanHistory says which shape a history took.
func askShape(ctx workflow.Context) workflow.Version {
	return workflow.GetVersion(ctx, changeLeanHistory, workflow.DefaultVersion, leanStoreOutbox)
}

// purchase is the workflow's state. Handlers and the main flow take lock
// around their I/O, so their activities never interleave and each one sees
// the status the previous one left.
type purchase struct {
	in     PurchaseInput
	timing Timing
	shape  func(workflow.Context) workflow.Version // which history shape this workflow takes (currentShape, askShape)
	order  models.Order
	lock   workflow.Mutex
	saga   saga
	logger log.Logger

	paid   *PayResult // the pay update's answer, once the payment step settles
	payErr error      // set instead when the workflow ends without settling it

	intentID     string   // the order's PaymentIntent, once authorize answered
	intentNudges []string // intents Stripe's webhooks named since the last re-read

	savedCard *activities.SavedCard // the card attached for the buyer's profile, if they asked to save

	merchantNotified bool               // order.created was sent: later endings are news to the merchant
	createdAnnounced bool               // order.created was kept with the authorized record
	counted          models.OrderStatus // the last status counted in the purchase metrics

	givingBack int        // money compensations running in the background, awaited before returning
	attention  *attention // set while the order needs an operator: giving the money back failed for good

	outbox outbox // the merchant's events, delivered one at a time in order

	lean        bool // changeLeanHistory: started with every change below, and the shorter history
	storeOutbox bool // leanStoreOutbox: the merchant's events leave through the store's outbox
	// attributesValidated: validation priced the order, so its search
	// attributes follow the order's (a lean workflow's upsertStatus).
	attributesValidated bool
	attrs               OrderAttributes  // a lean workflow's search attributes as it started or last set them
	moneyVersion        workflow.Version // changeMoneyInWorkflow
	refunds             []*orderRefund   // the order's refunds, in the order they were asked for
	stripeNews          workflow.ReceiveChannel
	applyingNews        bool
	savedSequence       int // the last event sequence number kept in the store
}

// attention is what an operator must settle: the step that failed and the
// ending the order returns to once it is retried or resolved.
type attention struct {
	step        compensation
	ending      models.OrderStatus
	failureCode string
}

func newPurchase(ctx workflow.Context, in PurchaseInput) *purchase {
	return &purchase{
		in: in,
		order: models.Order{
			ID:        in.OrderID,
			BuyerID:   in.BuyerID,
			ProductID: in.ProductID,
			Quantity:  in.Quantity,
			Shipping:  in.Shipping,
			Status:    models.StatusPending,
		},
		lock:   workflow.NewMutex(ctx),
		logger: orderLogger(ctx, in.OrderID),
	}
}

// changeLeanHistory versions the purchase's shorter history. A workflow
// started with it has every earlier change of this workflow, so it asks
// Temporal for none of them: one version marker instead of one per change.
// Histories from before it take the branches they took then.
const changeLeanHistory = "lean-history"

// Versions of changeLeanHistory.
const (
	// leanActivityOutbox: the shorter history, the merchant's events sent
	// by a notification activity of the workflow each.
	leanActivityOutbox workflow.Version = 1
	// leanStoreOutbox: the merchant's events kept in the store's outbox
	// by a store step, and sent from there by the worker's dispatcher
	// (activities.Dispatcher): no activity, and no workflow task for its
	// answer, per event.
	leanStoreOutbox workflow.Version = 2
)

func (p *purchase) run(ctx workflow.Context) (models.Order, error) {
	v := p.shape(ctx)
	p.lean = v >= leanActivityOutbox
	p.storeOutbox = v >= leanStoreOutbox
	if p.lean {
		p.moneyVersion = 1
		if p.in.Attributes != nil {
			p.attrs = *p.in.Attributes
		}
	} else {
		p.moneyVersion = workflow.GetVersion(ctx, changeMoneyInWorkflow, workflow.DefaultVersion, 1)
	}
	p.upsertStatus(ctx)
	err := p.process(ctx)
	switch {
	case ctx.Err() != nil:
		p.cancelled(ctx)
		err = ctx.Err()
	case err != nil:
		// Nothing but a bug gets here (the store's outages are ridden out
		// or end the order): give back whatever was taken and fail, so an
		// operator sees why in Temporal UI.
		p.logger.Error("Purchase failed", "error", err)
		p.compensate(ctx)
	}
	if p.paid == nil {
		p.payErr = err
		if err == nil {
			p.answerPay("")
		}
	}
	p.finish(ctx)
	if err != nil {
		return p.order, err
	}
	return p.order, nil
}

// process is the purchase's main line. It returns nil when the order reached
// a terminal status, whichever it is: a declined card is an outcome, not a
// workflow failure.
func (p *purchase) process(ctx workflow.Context) error {
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	err := p.pay(ctx)
	p.lock.Unlock()
	if err != nil {
		return err
	}
	if p.awaitingPayment() {
		if err := p.awaitPaymentAction(ctx); err != nil {
			return err
		}
	}
	if p.order.Status != models.StatusAuthorized {
		return workflow.Await(ctx, p.terminal)
	}
	p.saveProfile(ctx)
	// Saving the profile waits on the store, and a buyer's cancel may end
	// the order meanwhile: a merchant must never be told to fulfil an order
	// that has already ended.
	if p.order.Status != models.StatusAuthorized {
		return workflow.Await(ctx, p.terminal)
	}
	if !p.createdAnnounced {
		p.notify(ctx, EventOrderCreated)
	}
	p.merchantNotified = true
	if err := p.awaitMerchant(ctx); err != nil {
		return err
	}
	if err := p.awaitShipment(ctx); err != nil {
		return err
	}
	if err := p.awaitDelivery(ctx); err != nil {
		return err
	}
	return workflow.Await(ctx, p.terminal)
}

// awaitShipment gives an accepted order until the ship-by deadline; past
// it the buyer is refunded, the stock released and the merchant told.
func (p *purchase) awaitShipment(ctx workflow.Context) error {
	if p.order.Status != models.StatusAccepted {
		return nil
	}
	shipped, err := workflow.AwaitWithTimeout(ctx, orDefault(p.in.ShipBy, DefaultShipBy), func() bool {
		return p.order.Status != models.StatusAccepted
	})
	if err != nil || shipped {
		return err
	}
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	defer p.lock.Unlock()
	if p.order.Status != models.StatusAccepted {
		return nil // a handler holding the lock decided first
	}
	p.end(detached(ctx), models.StatusCancelled, models.ActorSystem, "ship_by_expired", "the merchant did not ship in time; the buyer was refunded")
	p.notify(ctx, EventOrderCancelled)
	return nil
}

// awaitDelivery completes a shipped order by itself once the auto-complete
// period has passed without a delivery confirmation, so no order workflow
// lives for ever; later refunds and disputes run in workflows of their own.
func (p *purchase) awaitDelivery(ctx workflow.Context) error {
	if p.order.Status != models.StatusShipped {
		return nil
	}
	delivered, err := workflow.AwaitWithTimeout(ctx, orDefault(p.in.AutoCompleteAfter, DefaultAutoCompleteAfter), func() bool {
		return p.order.Status != models.StatusShipped
	})
	if err != nil || delivered {
		return err
	}
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	defer p.lock.Unlock()
	if p.order.Status != models.StatusShipped {
		return nil
	}
	p.outbox.recordAndPublish(detached(ctx), p, p.withNextEvent(models.StatusChange{To: models.StatusDelivered, Actor: models.ActorSystem,
		Detail: "completed automatically after shipping"}), EventOrderDelivered)
	return nil
}

// orDefault is d, or def when d is not set.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (p *purchase) terminal() bool { return p.order.Status.Terminal() }

// pay validates, reserves and authorizes. Its I/O runs in a detached
// context: a cancellation waits for the step in flight, so compensation
// knows what to undo (an authorization cut off mid-call would leave a hold
// we cannot name).
func (p *purchase) pay(ctx workflow.Context) error {
	dctx := detached(ctx)
	reserve := p.validateThenReserve
	if p.lean {
		reserve = p.validateAndReserve
	}
	if ended, err := reserve(ctx, dctx); ended || err != nil {
		return err
	}

	o := p.order
	paymentMethod, customer := p.paymentSource(dctx)
	// Without a card to save nothing stands between the authorization and
	// the merchant's order.created: the record of the one keeps the other.
	var announce *activities.NotifyInput
	if p.storeOutbox && p.savedCard == nil {
		ev := p.outbox.peek(ctx, p, EventOrderCreated)
		announce = &ev
	}
	intent, recorded, announced, err := p.authorize(dctx, announce, payments.AuthorizeRequest{
		OrderID:       o.ID,
		MerchantID:    o.MerchantID,
		Amount:        o.Amount(),
		PaymentMethod: paymentMethod,
		Customer:      customer,
		Description:   o.ProductTitle,
		SaveCard:      p.savedCard != nil,
	})
	if err != nil {
		code, msg := "payment_unavailable", "the payment service did not answer; nothing was charged"
		if e := domainError(err); e != nil {
			code, msg = e.Code, e.Message
		} else {
			p.authorizationUnknown(dctx)
		}
		p.commitSteps(dctx)
		p.end(dctx, models.StatusPaymentFailed, models.ActorSystem, code, msg)
		return nil
	}
	p.intentID = intent.ID
	p.keepSavedCard(intent)
	switch intent.Status {
	case payments.IntentRequiresCapture:
		p.saga.add(stepVoid, p.voidAuthorization)
		p.recorded(dctx, recorded, activities.AuthorizedChange(o.ID, intent.ID))
		if announced {
			p.outbox.sequence = announce.Sequence
			p.createdAnnounced = true
			// From here any ending is news to the merchant.
			p.merchantNotified = true
		}
		p.answerPay("")
	case payments.IntentRequiresAction:
		p.saga.add(stepVoid, p.voidAuthorization)
		p.record(dctx, models.StatusChange{To: models.StatusRequiresAction, Actor: models.ActorSystem,
			PaymentIntentID: intent.ID, Detail: "waiting for 3-D Secure"})
		p.answerPay("complete 3-D Secure to finish the payment")
		p.paid.ClientSecret = intent.ClientSecret
		p.paid.NextActionType = intent.NextActionType
	case payments.IntentProcessing:
		// Stripe will tell through its webhook; the pay update waits for it.
		p.saga.add(stepVoid, p.voidAuthorization)
	default:
		code := intent.LastErrorCode
		if code == "" {
			code = "card_declined"
		}
		p.commitSteps(dctx)
		p.end(dctx, models.StatusPaymentFailed, models.ActorSystem, code, "the card was not authorized")
	}
	return nil
}

// awaitingPayment reports whether Stripe's answer is still outstanding
// (3-D Secure, or a processing intent).
func (p *purchase) awaitingPayment() bool {
	return p.intentID != "" && (p.order.Status == models.StatusRequiresAction || p.order.Status == models.StatusPending)
}

// awaitMerchant waits for accept or reject; past the deadline the order
// expires and the money and stock go back.
func (p *purchase) awaitMerchant(ctx workflow.Context) error {
	decided, err := workflow.AwaitWithTimeout(ctx, p.acceptTimeout(), func() bool {
		return p.order.Status != models.StatusAuthorized
	})
	if err != nil || decided {
		return err
	}
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	defer p.lock.Unlock()
	if p.order.Status != models.StatusAuthorized {
		return nil // a handler holding the lock decided first
	}
	p.end(detached(ctx), models.StatusExpired, models.ActorSystem, "accept_timeout", "the merchant did not accept in time")
	p.notify(ctx, EventOrderExpired)
	return nil
}

func (p *purchase) acceptTimeout() time.Duration {
	switch t := p.in.AcceptTimeout; {
	case t <= 0:
		return DefaultAcceptTimeout
	case t > MaxAcceptTimeout:
		return MaxAcceptTimeout
	default:
		return t
	}
}

// cancelled runs when the workflow itself is cancelled (by an operator):
// undo what was done if the order may still be cancelled. Once shipped the
// goods are gone, so nothing is undone.
func (p *purchase) cancelled(ctx workflow.Context) {
	dctx := detached(ctx)
	if err := p.lock.Lock(dctx); err != nil {
		return
	}
	defer p.lock.Unlock()
	if !models.CanTransition(p.order.Status, models.StatusCancelled) {
		return
	}
	p.end(dctx, models.StatusCancelled, models.ActorSystem, "workflow_cancelled", "the purchase was cancelled by an operator")
	// A merchant told to fulfil would otherwise ship goods whose money was
	// just given back; the notice outlives the cancelled context.
	if p.merchantNotified {
		p.notify(dctx, EventOrderCancelled)
	}
}

// finish waits, before the workflow returns, for the money to be given back
// (or for an operator to settle an order that needs attention), for the
// merchant's events to leave and for running handlers, so none is cut off.
func (p *purchase) finish(ctx workflow.Context) {
	dctx := detached(ctx)
	idle := func() bool {
		return p.givingBack == 0 && p.attention == nil && p.outbox.idle() && p.newsIdle() && workflow.AllHandlersFinished(dctx)
	}
	if p.refundsPending() {
		// Stripe settles a pending refund within days; its news comes as a
		// signal. One that never settles must not keep the order open.
		settled, _ := workflow.AwaitWithTimeout(dctx, refundSettleWait, func() bool { return !p.refundsPending() })
		if !settled {
			p.unsettledRefunds(dctx)
		}
	}
	for {
		_ = workflow.Await(dctx, idle)
		if p.moneyVersion == workflow.DefaultVersion || p.outbox.sequence == p.savedSequence {
			return
		}
		// What handles the order after its end numbers its events on from here.
		last := p.outbox.sequence
		if err := p.writeDurably(dctx, nil, acts.SaveEventSequence, p.order.ID, last); err != nil {
			p.logger.Error("Saving the event sequence failed", "error", err)
		}
		p.savedSequence = last
	}
}

// endInvalid ends a purchase whose request failed validation. There is no order
// row to update (validation is what creates it), so only the workflow's view
// and its search attribute record the outcome.
func (p *purchase) endInvalid(ctx workflow.Context, e *models.Error) {
	p.order.Status = models.StatusInvalid
	p.order.FailureCode = e.Code
	p.upsertStatus(ctx)
	p.answerPay(e.Message)
}

// end decides the order's outcome at once: the stock goes back first, the
// final status is recorded and the pay update answered, and the money is
// given back in the background (giveBack), where a Stripe outage blocks no
// handler. The refunded amount is the refund ledger's to write, not this
// status change's.
func (p *purchase) end(ctx workflow.Context, to models.OrderStatus, actor, code, detail string) {
	p.compensate(ctx)
	p.record(ctx, models.StatusChange{To: to, Actor: actor, FailureCode: code, Detail: detail, PaymentIntentID: p.intentID})
	p.answerPay(detail)
}

// compensate undoes every step done so far: the stock right away (a quick
// store write that buyers of the same product are waiting on), every other
// step in parallel in the background.
func (p *purchase) compensate(ctx workflow.Context) {
	dctx := detached(ctx)
	steps := p.saga.take()
	for _, c := range steps {
		if c.step == stepStock {
			if err := c.undo(dctx); err != nil {
				p.logger.Error("Releasing stock failed", "error", err)
			}
		}
	}
	for _, c := range steps {
		if c.step != stepStock {
			p.giveBack(dctx, c)
		}
	}
}

// giveBack runs one money compensation (void or refund) in its own
// coroutine, holding no lock, with its week of retries. One that fails for
// good puts the order in needs_attention instead of letting it read as if
// the money went back.
func (p *purchase) giveBack(ctx workflow.Context, c compensation) {
	p.givingBack++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.givingBack-- }()
		err := c.undo(ctx)
		switch {
		case err == nil:
		case c.step == stepVoid || c.step == stepRefund:
			p.needAttention(ctx, c, err)
		default:
			p.logger.Error("Compensation failed", "step", c.step, "error", err)
		}
	})
}

// needAttention records that giving the money back failed. It takes the
// lock, so it runs after the ending that started the compensation was
// recorded, and the order's status, search attribute and metrics all show
// needs_attention until an operator retries or resolves it.
func (p *purchase) needAttention(ctx workflow.Context, c compensation, err error) {
	if lerr := p.lock.Lock(ctx); lerr != nil {
		return
	}
	defer p.lock.Unlock()
	p.markAttention(ctx, c, err)
}

// markAttention is needAttention for a caller holding the lock.
func (p *purchase) markAttention(ctx workflow.Context, c compensation, err error) {
	p.logger.Error("Giving the money back failed; the order needs an operator", "step", c.step, "error", err)
	p.attention = &attention{step: c, ending: p.order.Status, failureCode: p.order.FailureCode}
	p.record(ctx, models.StatusChange{To: models.StatusNeedsAttention, Actor: models.ActorSystem,
		FailureCode: c.step + "_failed", Detail: "giving the money back failed: " + c.step})
}

// answerPay fixes the pay update's answer from the current order, once.
func (p *purchase) answerPay(message string) {
	if p.paid != nil {
		return
	}
	p.paid = &PayResult{
		OrderID:     p.order.ID,
		Status:      p.order.Status,
		Amount:      p.order.AmountMinor,
		Currency:    p.order.Currency,
		FailureCode: p.order.FailureCode,
	}
	if p.order.Status != models.StatusAuthorized {
		p.paid.Message = message
	}
}

// record writes a status change to the store and the OrderStatus search
// attribute. The workflow is the source of truth: should the store refuse
// the change, the workflow's view still moves on and the error is logged.
func (p *purchase) record(ctx workflow.Context, c models.StatusChange) {
	_ = p.recordWith(ctx, c, acts.RecordStatus)
}

// recordWith is record through activity, which takes c and then more: the
// error says the store refused the change (the workflow's view moved on).
func (p *purchase) recordWith(ctx workflow.Context, c models.StatusChange, activity any, more ...any) error {
	c.OrderID = p.order.ID
	var o models.Order
	err := p.writeDurably(ctx, &o, activity, append([]any{c}, more...)...)
	if err != nil {
		p.logger.Error("Recording status failed; the read model lags the workflow", "To", c.To, "error", err)
		p.order = applyChange(p.order, c)
	} else {
		p.order = o
		p.savedSequence = max(p.savedSequence, c.EventSequence)
	}
	p.upsertStatus(ctx)
	return err
}

// withNextEvent has the store keep, with a lean workflow's change c, the
// sequence number of the merchant event published right after it: after a
// delivery, the workflow's end then has no sequence of its own to save for
// whatever handles the order later (finish).
func (p *purchase) withNextEvent(c models.StatusChange) models.StatusChange {
	if p.lean {
		c.EventSequence = p.outbox.sequence + 1
	}
	return c
}

// recorded takes the order as a step recorded it with c, or records c when
// the step could not (o nil).
func (p *purchase) recorded(ctx workflow.Context, o *models.Order, c models.StatusChange) {
	if o == nil {
		p.record(ctx, c)
		return
	}
	p.order = *o
	p.upsertStatus(ctx)
}

// writeDurably is writeWithFallback for writes that must never be lost (a
// status record, a stock release): their durable retries last a week.
func (p *purchase) writeDurably(ctx workflow.Context, result any, activity any, args ...any) error {
	return p.writeWithFallback(ctx, durableStoreOptions, result, activity, args...)
}

// writeWithFallback runs a store step as a local activity (fast, inside the
// workflow task) and, when its few quick attempts run out on a retryable
// error, as a regular activity with the durable options: a database that
// refuses connections for a while delays the step instead of failing it.
func (p *purchase) writeWithFallback(ctx workflow.Context, durable workflow.ActivityOptions, result any, activity any, args ...any) error {
	return storeStep(ctx, p.logger, durable, result, activity, args...)
}

// storeStep is writeWithFallback for any workflow.
func storeStep(ctx workflow.Context, logger log.Logger, durable workflow.ActivityOptions, result any, activity any, args ...any) error {
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localStoreOptions), activity, args...).Get(ctx, result)
	var app *temporal.ApplicationError
	if err == nil || errors.As(err, &app) && app.NonRetryable() {
		return err
	}
	logger.Warn("Store step failed as a local activity; retrying durably", "error", err)
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, durable), activity, args...).Get(ctx, result)
}

// giveUp ends a purchase whose early store steps failed through every
// retry: whatever was taken goes back, and the order records a terminal
// status (or, when validation never wrote the row, the workflow's view and
// search attribute do), so a retry with the same key answers the truth
// instead of finding a failed workflow.
func (p *purchase) giveUp(ctx workflow.Context, err error) {
	p.commitSteps(ctx)
	p.logger.Error("Purchase gave up: the store stayed unavailable", "error", err)
	p.end(ctx, models.StatusPaymentFailed, models.ActorSystem, codeStoreUnavailable,
		"the order could not be recorded; nothing was charged, try again")
}

func applyChange(o models.Order, c models.StatusChange) models.Order {
	o.Status = c.To
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.FailureCode, c.FailureCode)
	if c.ClearFailureCode {
		o.FailureCode = ""
	}
	set(&o.PaymentIntentID, c.PaymentIntentID)
	set(&o.Carrier, c.Carrier)
	set(&o.TrackingNumber, c.TrackingNumber)
	set(&o.TrackingURL, c.TrackingURL)
	if c.CapturedMinor != nil {
		o.CapturedMinor = *c.CapturedMinor
	}
	if c.RefundedMinor != nil {
		o.RefundedMinor = *c.RefundedMinor
	}
	return o
}

// Compensations.

func (p *purchase) releaseStock(ctx workflow.Context) error {
	return p.writeDurably(ctx, nil, acts.ReleaseStock, p.order.ID)
}

func (p *purchase) voidAuthorization(ctx workflow.Context) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, compensationOptions), acts.VoidAuthorization,
		p.order.ID, p.intentID).Get(ctx, nil)
}

// refundPayment gives back whatever captured money merchants' refunds have
// not already returned, through the same ledger as they do, so the total
// can never exceed the capture.
func (p *purchase) refundPayment(ctx workflow.Context) error {
	if p.moneyVersion != workflow.DefaultVersion {
		return p.refundRemainder(ctx)
	}
	var r activities.RefundResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, compensationOptions), acts.RefundOrder,
		models.NewRefund{
			OrderID: p.order.ID,
			Key:     activities.RefundKeyCancel,
			Reason:  "requested_by_customer",
			Actor:   models.ActorSystem,
		}).Get(ctx, &r)
	if e := domainError(err); e != nil && e.Code == codeAlreadyRefunded {
		return nil
	}
	if err != nil {
		return err
	}
	// The ending was recorded before this background refund finished
	// (the lock orders the two); the ledger wrote the refunded amount to the
	// row, the workflow's view and the merchant learn it now.
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	defer p.lock.Unlock()
	p.order.RefundedMinor = max(p.order.RefundedMinor, r.Order.RefundedMinor)
	if p.merchantNotified {
		p.outbox.publish(ctx, p, EventOrderRefunded, activities.RefundRef(activities.RefundKeyCancel))
	}
	return nil
}

// notify puts an event about the order, as it is now, in the merchant's
// outbox (purchase_outbox.go).
func (p *purchase) notify(ctx workflow.Context, eventType string) {
	p.outbox.publish(ctx, p, eventType, "")
}

// upsertStatus sets the OrderStatus search attribute. A lean workflow
// upserts only what differs from what its attributes were started with or
// last set to (the API starts it with the order's pending status, merchant
// and amount, and says so in its input), together with any order attribute
// validation changed: one upsert per status change at most, none for the
// pending status it started with.
func (p *purchase) upsertStatus(ctx workflow.Context) {
	if !p.lean {
		p.upsert(ctx, OrderStatusKey.ValueSet(string(p.order.Status)))
	} else {
		want := p.attrs
		want.Status = p.order.Status
		if p.attributesValidated {
			want.MerchantID, want.AmountMinor, want.Currency = p.order.MerchantID, p.order.AmountMinor, p.order.Currency
		}
		if updates := want.updatesFrom(p.attrs); len(updates) > 0 {
			p.upsert(ctx, updates...)
		}
		p.attrs = want
	}
	p.countStatus(ctx)
}

// upsertOrderAttributes sets the order's search attributes once validation
// has priced it. A lean workflow leaves them to its next status upsert.
func (p *purchase) upsertOrderAttributes(ctx workflow.Context) {
	if p.lean {
		p.attributesValidated = true
		return
	}
	p.upsert(ctx,
		OrderStatusKey.ValueSet(string(p.order.Status)),
		MerchantIDKey.ValueSet(p.order.MerchantID),
		AmountMinorKey.ValueSet(p.order.AmountMinor),
		CurrencyKey.ValueSet(p.order.Currency),
	)
}

func (p *purchase) upsert(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		p.logger.Warn("Upserting search attributes failed", "error", err)
	}
}

// domainError returns the domain error a failed activity carried, if a
// retry could not have fixed it; nil means an infrastructure failure.
func domainError(err error) *models.Error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() {
		return nil
	}
	var e *models.Error
	if errors.As(failures.FromTemporal(err), &e) {
		return e
	}
	return nil
}

// detached is a context that outlives the cancellation of ctx: what it runs
// (compensations, records of an ending) finishes even when the workflow is
// being cancelled.
func detached(ctx workflow.Context) workflow.Context {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	return dctx
}
