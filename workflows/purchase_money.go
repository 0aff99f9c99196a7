package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// The order's money after capture: every refund is an update of the order's
// workflow (or, once it ended, of an EndedOrderWorkflow), and Stripe's news
// of refunds and disputes is a signal to it. The workflow decides; the store
// records what it decided, in order.

// changeMoneyInWorkflow marks the version of the purchase in which the
// workflow owns its refunds: the buyer's cancel refunds through the same
// steps as the merchant's refunds, and the last event sequence number is
// kept for what follows the workflow's end.
const changeMoneyInWorkflow = "money-in-workflow"

// refundSettleWait bounds how long an ended order's workflow waits for its
// pending refunds to settle at Stripe before it ends anyway; a refund that
// gives the buyer's money back and is still pending then needs an operator.
const refundSettleWait = 30 * 24 * time.Hour

// refundAskAgainAfter is the pause before Stripe is asked again about a
// refund it never answered.
const refundAskAgainAfter = time.Hour

// RefundInput is a merchant's refund request: the refund update's argument
// (and the retired RefundWorkflow's input).
type RefundInput struct {
	OrderID string `json:"order_id"`
	Key     string `json:"key"`
	Amount  int64  `json:"amount"`
	Reason  string `json:"reason,omitempty"`
	Actor   string `json:"actor"`
}

// RefundResult is a refund's answer: the refund and the order after it.
type RefundResult = activities.RefundResult

// codeAlreadyRefunded is the ledger's answer when nothing is left to refund.
const codeAlreadyRefunded = "already_refunded"

// orderRefund is one refund request of the order, as the workflow tracks it.
type orderRefund struct {
	req        models.NewRefund
	status     models.RefundStatus
	stripeID   string
	givesBack  bool // made by the order's ending (cancel, ship-by): all the money must go back
	inFlight   bool
	result     RefundResult
	err        error // the request's answer when it did not succeed
	unanswered bool  // the last run met no answer from Stripe: it is asked again later
}

// refundByKey is the order's refund requested under key, if any.
func (p *purchase) refundByKey(key string) *orderRefund {
	for _, r := range p.refunds {
		if r.req.Key == key {
			return r
		}
	}
	return nil
}

// refundedSoFar is the money the order's refunds take from the capture: pending,
// in flight or succeeded (failed ones gave it back).
func (p *purchase) refundedSoFar() int64 {
	var n int64
	for _, r := range p.refunds {
		if r.status != models.RefundFailed {
			n += r.req.AmountMinor
		}
	}
	return max(n, p.order.RefundedMinor)
}

func (p *purchase) knowsStripeRefund(id string) bool {
	for _, r := range p.refunds {
		if id != "" && r.stripeID == id {
			return true
		}
	}
	return false
}

func (p *purchase) refundsInFlight() bool {
	for _, r := range p.refunds {
		if r.inFlight {
			return true
		}
	}
	return false
}

// givingBackPending reports whether a refund that gives the buyer's money
// back is still pending at Stripe.
func (p *purchase) givingBackPending() bool {
	for _, r := range p.refunds {
		if r.givesBack && r.status == models.RefundPending {
			return true
		}
	}
	return false
}

func (p *purchase) refundsPending() bool {
	for _, r := range p.refunds {
		if r.status == models.RefundPending {
			return true
		}
	}
	return false
}

// admitRefund checks a merchant's refund request against the order now. A
// repeat of a request (same key, same amount) is admitted: it answers what
// the first one did.
func (p *purchase) admitRefund(in RefundInput) error {
	if in.Key == "" {
		return models.Invalid("invalid_refund", "a refund key is required")
	}
	if r := p.refundByKey(in.Key); r != nil {
		if r.req.AmountMinor != in.Amount {
			return models.Invalid("idempotency_key_reused", "this Idempotency-Key was used for a refund of another amount")
		}
		return nil
	}
	if in.Amount <= 0 {
		return models.Invalid("invalid_amount", "amount must be a positive integer in minor units")
	}
	o := p.order
	o.RefundedMinor = p.refundedSoFar()
	return models.CheckRefund(o, in.Amount)
}

func (p *purchase) validateRefund(in RefundInput) error {
	return failures.ToTemporal(p.admitRefund(in))
}

// refund is the merchant's refund update. Refunds are counted against the
// capture here, one at a time, so concurrent requests can never add up to
// more than was captured; Stripe is asked without holding the lock, so an
// outage there blocks no other handler.
func (p *purchase) refund(ctx workflow.Context, in RefundInput) (RefundResult, error) {
	if err := p.admitRefund(in); err != nil {
		return RefundResult{}, failures.ToTemporal(err)
	}
	r := p.refundByKey(in.Key)
	if r == nil {
		r = &orderRefund{req: models.NewRefund{OrderID: p.order.ID, Key: in.Key, AmountMinor: in.Amount,
			Reason: in.Reason, Actor: in.Actor}, status: models.RefundPending}
		p.refunds = append(p.refunds, r)
		p.moveRefund(ctx, r)
	} else if r.unanswered && !r.inFlight {
		p.moveRefund(ctx, r)
	}
	if err := workflow.Await(ctx, func() bool { return !r.inFlight }); err != nil {
		return RefundResult{}, err
	}
	return r.result, r.err
}

// moveRefund runs one refund's steps and applies their outcome to the
// order. It returns once they are done.
func (p *purchase) moveRefund(ctx workflow.Context, r *orderRefund) {
	r.inFlight = true
	defer func() { r.inFlight = false }()
	dctx := detached(ctx)
	res, failure, err := runRefund(dctx, p.logger, r.req)
	if lerr := p.lock.Lock(dctx); lerr != nil {
		return
	}
	defer p.lock.Unlock()
	res.Refund.Key = r.req.Key // kept out of the activities' JSON
	r.result, r.err, r.unanswered = res, nil, false
	if r.req.AmountMinor == 0 {
		r.req.AmountMinor = res.Refund.AmountMinor // the ledger's remainder
	}
	if res.Order.ID != "" {
		p.order.RefundedMinor = res.Order.RefundedMinor
	}
	if res.Refund.Status != "" {
		r.stripeID = res.Refund.StripeRefundID
	}
	switch e := domainError(err); {
	case err == nil:
		r.status = res.Refund.Status
	case e != nil && res.Refund.Status == "":
		r.status, r.err = models.RefundFailed, failures.ToTemporal(e) // refused before it counted
	case e != nil:
		r.status, r.err = res.Refund.Status, failures.ToTemporal(e)
	default:
		// No answer from Stripe through a week of retries: the refund stays
		// counted and pending (what the caller is told), and Stripe is
		// asked again later, retrieve-then-act as always.
		r.unanswered = true
		r.result.Refund.Status = models.RefundPending
		p.logger.Error("Refund unanswered; asking again later", "error", err)
		workflow.Go(dctx, func(ctx workflow.Context) {
			if workflow.Sleep(ctx, refundAskAgainAfter) == nil && r.unanswered && !r.inFlight {
				p.moveRefund(ctx, r)
			}
		})
	}
	switch r.status {
	case models.RefundSucceeded:
		p.refundSucceeded(dctx, res.Refund)
	case models.RefundFailed:
		if res.Refund.Status == models.RefundFailed && res.Refund.StripeRefundID != "" {
			p.refundFailed(dctx, res.Refund, failure)
		}
	}
}

// refundSucceeded tells the merchant, and cancels an accepted order whose
// whole capture went back before it shipped (the stock goes back too).
func (p *purchase) refundSucceeded(ctx workflow.Context, rf models.Refund) {
	if p.merchantNotified {
		p.outbox.publish(ctx, p, EventOrderRefunded, activities.RefundRef(rf.Key))
	}
	if p.order.Status != models.StatusAccepted || p.order.CapturedMinor <= 0 || p.order.RefundedMinor < p.order.CapturedMinor {
		return
	}
	detail := "fully refunded before shipping"
	if rf.Reason != "" {
		detail += ": " + rf.Reason
	}
	p.end(ctx, models.StatusCancelled, rf.Actor, "refunded", detail)
	p.notify(ctx, EventOrderCancelled)
}

// refundFailed tells the merchant that Stripe failed a refund it had
// accepted. On an order whose ending gave all the money back (a cancel),
// the buyer is now short: the order needs an operator, whose retry refunds
// the remainder.
func (p *purchase) refundFailed(ctx workflow.Context, rf models.Refund, reason string) {
	p.outbox.publishAbout(ctx, p, EventOrderRefundFailed, activities.RefundRef(rf.Key), refundFailedData(rf, reason), nil)
	if p.order.Status == models.StatusCancelled && p.attention == nil {
		p.markAttention(ctx, compensation{step: stepRefund, undo: p.refundRemainder},
			fmt.Errorf("refund %s failed at the payment service: %s", rf.StripeRefundID, reason))
	}
}

func refundFailedData(rf models.Refund, reason string) *activities.WebhookRefund {
	return &activities.WebhookRefund{Amount: rf.AmountMinor, Currency: rf.Currency, Reason: rf.Reason,
		Status: models.RefundFailed, FailureReason: reason}
}

// refundRemainder is the compensation of a capture: it refunds whatever of
// it the order's refunds do not already give back, under a key of its own
// per try (cancel, then cancel-2…), so a retry after a failed refund is a
// new refund of exactly the remainder.
func (p *purchase) refundRemainder(ctx workflow.Context) error {
	amount := p.order.CapturedMinor - p.refundedSoFar()
	if amount <= 0 {
		return nil
	}
	key := activities.RefundKeyCancel
	tries := 0
	for _, r := range p.refunds {
		if r.givesBack {
			tries++
		}
	}
	if tries > 0 {
		key += "-" + strconv.Itoa(tries+1)
	}
	r := &orderRefund{req: models.NewRefund{OrderID: p.order.ID, Key: key, AmountMinor: amount,
		Reason: "requested_by_customer", Actor: models.ActorSystem}, status: models.RefundPending, givesBack: true}
	p.refunds = append(p.refunds, r)
	p.moveRefund(ctx, r)
	if e := domainError(r.err); e != nil && e.Code == "refund_exceeds_captured" && r.result.Refund.Status == "" {
		// The ledger counts refunds this workflow did not make (made
		// before the workflow owned its refunds): refund what it says is left.
		r.req.AmountMinor, r.status = 0, models.RefundPending
		p.moveRefund(ctx, r)
	}
	if e := domainError(r.err); e != nil && e.Code == codeAlreadyRefunded {
		return nil
	}
	return r.err
}

// unsettledRefunds runs when an ended order's refunds stayed pending past
// refundSettleWait: one that gives the buyer's money back needs an operator.
func (p *purchase) unsettledRefunds(ctx workflow.Context) {
	if !p.givingBackPending() || p.attention != nil {
		return
	}
	if err := p.lock.Lock(ctx); err != nil {
		return
	}
	defer p.lock.Unlock()
	p.markAttention(ctx, compensation{step: stepRefund, undo: p.refundRemainder},
		fmt.Errorf("the refund was still pending after %s", refundSettleWait))
}

// listenForStripeNews applies Stripe's news of the order's refunds and
// dispute, one event at a time.
func (p *purchase) listenForStripeNews(ctx workflow.Context) {
	p.stripeNews = workflow.GetSignalChannel(ctx, SignalStripeMoney)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev StripeMoneyEvent
			if !p.stripeNews.Receive(ctx, &ev) {
				return
			}
			p.applyingNews = true
			p.applyStripeNews(ctx, ev)
			p.applyingNews = false
		}
	})
}

// newsIdle reports whether every Stripe event received was applied.
func (p *purchase) newsIdle() bool {
	return !p.applyingNews && (p.stripeNews == nil || p.stripeNews.Len() == 0)
}

func (p *purchase) applyStripeNews(ctx workflow.Context, ev StripeMoneyEvent) {
	// News of a refund the workflow does not know by its Stripe id may be
	// about one whose answer is on its way: that is recorded first, so the
	// news finds it. Dispute news waits for nothing.
	if ev.Kind == MoneyEventRefund && !p.knowsStripeRefund(ev.ObjectID) {
		if err := workflow.Await(ctx, func() bool { return !p.refundsInFlight() }); err != nil {
			return
		}
	}
	if err := p.lock.Lock(ctx); err != nil {
		return
	}
	defer p.lock.Unlock()
	dctx := detached(ctx)
	news, err := recordStripeNews(dctx, p.logger, p.order, ev)
	if err != nil {
		p.logger.Error("Recording Stripe's news failed", "kind", ev.Kind, "error", err)
		return
	}
	if news.refund != nil {
		p.order.RefundedMinor = news.order.RefundedMinor
		if r := p.refundByKey(news.refund.Key); r != nil {
			r.status, r.stripeID = news.refund.Status, news.refund.StripeRefundID
		}
		switch news.refund.Status {
		case models.RefundSucceeded:
			p.refundSucceeded(dctx, *news.refund)
		case models.RefundFailed:
			p.refundFailed(dctx, *news.refund, ev.FailureReason)
		}
		return
	}
	p.order.Disputed, p.order.DisputeStatus = news.order.Disputed, news.order.DisputeStatus
	for _, e := range news.events {
		p.outbox.publishAbout(dctx, p, e.EventType, e.Ref, e.Refund, e.Dispute)
	}
}

// stripeNews is what one Stripe event changed: a refund that moved (nil
// when none did) or the events a dispute's change makes, and the order after it.
type stripeNews struct {
	refund        *models.Refund
	events        []activities.NotifyInput
	order         models.Order
	unknownRefund bool // the ledger has no refund of that Stripe id
}

// recordStripeNews writes Stripe's news to the store and says what changed.
// Refunds and disputes only move forward there, so a late or repeated event
// changes nothing.
func recordStripeNews(ctx workflow.Context, logger log.Logger, o models.Order, ev StripeMoneyEvent) (stripeNews, error) {
	switch ev.Kind {
	case MoneyEventRefund:
		var rec activities.RecordedRefund
		err := storeStep(ctx, logger, durableStoreOptions, &rec, acts.RecordRefund, activities.RefundChange{
			OrderID: o.ID, StripeRefundID: ev.ObjectID, Status: payments.LedgerRefundStatus(ev.Status)})
		if e := domainError(err); e != nil && e.Kind == models.KindNotFound {
			// Not a refund the checkout made, or one whose Stripe id is
			// not recorded yet.
			return stripeNews{order: o, unknownRefund: true}, nil
		}
		if err != nil {
			return stripeNews{}, err
		}
		rec.Refund.Key = rec.Key
		if rec.Before == rec.Refund.Status {
			return stripeNews{order: rec.Order}, nil
		}
		return stripeNews{refund: &rec.Refund, order: rec.Order}, nil
	case MoneyEventDispute:
		var after models.Order
		err := storeStep(ctx, logger, durableStoreOptions, &after, acts.RecordDispute,
			activities.DisputeChange{OrderID: o.ID, Status: ev.Status, Detail: ev.Detail})
		if err != nil {
			return stripeNews{}, err
		}
		news := stripeNews{order: after}
		if after.DisputeStatus == o.DisputeStatus && o.ID == after.ID {
			return news, nil
		}
		d := &activities.WebhookDispute{Status: after.DisputeStatus, Amount: ev.Amount, Currency: after.Currency, Reason: ev.Reason}
		ref := activities.DisputeRef(ev.ObjectID)
		if o.DisputeStatus == "" {
			news.events = append(news.events, activities.NotifyInput{EventType: EventOrderDisputed, Ref: ref, Dispute: d})
		}
		if after.DisputeStatus == models.DisputeWon || after.DisputeStatus == models.DisputeLost {
			news.events = append(news.events, activities.NotifyInput{EventType: EventOrderDisputeClosed, Ref: ref, Dispute: d})
		}
		return news, nil
	}
	return stripeNews{order: o}, nil
}

// runRefund makes one refund in three steps, each written before the next:
// the ledger counts it (refusing more than was captured), Stripe makes it
// (retrieve-then-act: an earlier attempt's refund is found by its tags and
// adopted), the ledger records Stripe's answer. A request the ledger shows
// settled is answered from it. failure is Stripe's reason for a refund it
// failed; err is a domain error when Stripe or the ledger refused, any
// other error when Stripe never answered (the refund stays counted).
func runRefund(ctx workflow.Context, logger log.Logger, req models.NewRefund) (res RefundResult, failure string, err error) {
	if err := storeStep(ctx, logger, durableStoreOptions, &res, acts.CountRefund, req); err != nil {
		return RefundResult{}, "", err
	}
	if res.Refund.Status != models.RefundPending {
		return res, "", nil
	}
	var sr payments.Refund
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, compensationOptions), acts.CreateRefund,
		payments.RefundRequest{OrderID: req.OrderID, IntentID: res.Order.PaymentIntentID, Amount: res.Refund.AmountMinor,
			Reason: req.Reason, Step: activities.RefundStep(req.Key)}).Get(ctx, &sr)
	status := payments.LedgerRefundStatus(sr.Status)
	if err != nil {
		if domainError(err) == nil {
			return res, "", err
		}
		status = models.RefundFailed
	}
	var rec activities.RecordedRefund
	if rerr := storeStep(ctx, logger, durableStoreOptions, &rec, acts.RecordRefund, activities.RefundChange{
		OrderID: req.OrderID, Key: req.Key, StripeRefundID: sr.ID, Status: status}); rerr != nil {
		logger.Error("Recording a refund failed; the ledger lags the workflow", "error", rerr)
		rec.RefundResult = res
		rec.Refund.Status, rec.Refund.StripeRefundID = status, sr.ID
	}
	if err != nil {
		return rec.RefundResult, "", err
	}
	if status == models.RefundFailed {
		return rec.RefundResult, sr.FailureReason, failures.ToTemporal(models.Errorf(models.KindConflict,
			activities.CodeRefundFailed, "the payment service could not refund this payment"))
	}
	return rec.RefundResult, "", nil
}

// RefundUpdateID is the update id of the refund requested under key (client
// text, so only its hash): a repeat of the request is the same update.
func RefundUpdateID(key string) string { return "refund-" + models.TextID(key) }
