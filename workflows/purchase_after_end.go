package workflows

import (
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// EndedOrderWorkflowName handles one request or one Stripe event about an
// order whose workflow has ended (delivered, auto-completed, cancelled…):
// a merchant's late refund, a refund's or a dispute's news. No order
// workflow lives for ever; what comes after it is this short workflow.
const EndedOrderWorkflowName = "EndedOrder"

// EndedOrderWorkflowID names the handling of one late request or event:
// a retried request (or a redelivered event) joins the run that handles it.
func EndedOrderWorkflowID(orderID, what string) string {
	return "ended-" + orderID + "-" + models.TextID(what)
}

// EndedOrderInput is one late request (Refund, Resolve) or Stripe event (News).
type EndedOrderInput struct {
	OrderID string            `json:"order_id"`
	Refund  *RefundInput      `json:"refund,omitempty"`
	News    *StripeMoneyEvent `json:"news,omitempty"`
	// Resolve settles an ended order that needs attention (its cancel's
	// refund failed at Stripe after the workflow ended).
	Resolve *ResolveInput `json:"resolve,omitempty"`
}

// refundLinkTries and refundLinkWait bound the wait for a refund's Stripe id
// to be recorded when Stripe's news of it comes first.
const (
	refundLinkTries = 10
	refundLinkWait  = 30 * time.Second
)

// EndedOrderWorkflow is EndedOrderWorkflowName with production timing.
func EndedOrderWorkflow(ctx workflow.Context, in EndedOrderInput) (RefundResult, error) {
	return Timing{}.EndedOrder(ctx, in)
}

// EndedOrder runs the request through the steps the order's workflow would
// have (the ledger refuses refunds beyond the capture, under the order's
// row lock, which is what serializes refunds once the workflow is gone),
// then sends the merchant's events numbered after the order's last one.
func (t Timing) EndedOrder(ctx workflow.Context, in EndedOrderInput) (RefundResult, error) {
	logger := orderLogger(ctx, in.OrderID)
	var res RefundResult
	var events []activities.NotifyInput
	var err error
	switch {
	case in.Refund != nil:
		var failure string
		req := models.NewRefund{OrderID: in.OrderID, Key: in.Refund.Key,
			AmountMinor: in.Refund.Amount, Reason: in.Refund.Reason, Actor: in.Refund.Actor}
		res, failure, err = runRefund(ctx, logger, req)
		// Stripe never answered through a week of retries: the refund stays
		// counted; ask again later until it answers.
		for err != nil && domainError(err) == nil {
			logger.Error("Refund unanswered; asking again later", "error", err)
			if err = workflow.Sleep(ctx, refundAskAgainAfter); err != nil {
				break
			}
			res, failure, err = runRefund(ctx, logger, req)
		}
		switch {
		case res.Refund.Status == models.RefundSucceeded:
			events = append(events, activities.NotifyInput{EventType: EventOrderRefunded, Ref: activities.RefundRef(in.Refund.Key)})
		case res.Refund.Status == models.RefundFailed && res.Refund.StripeRefundID != "":
			events = append(events, activities.NotifyInput{EventType: EventOrderRefundFailed,
				Ref: activities.RefundRef(in.Refund.Key), Refund: refundFailedData(res.Refund, failure)})
		}
	case in.News != nil:
		var before models.Order
		if err := storeStep(ctx, logger, durableStoreOptions, &before, acts.LoadOrder, in.OrderID); err != nil {
			return RefundResult{}, err
		}
		var news stripeNews
		news, err = recordStripeNews(ctx, logger, before, *in.News)
		// News of one of our refunds can overtake the late refund that made
		// it recording its Stripe id: give that a few minutes.
		for try := 0; err == nil && news.unknownRefund && in.News.Ours && try < refundLinkTries; try++ {
			if err = workflow.Sleep(ctx, refundLinkWait); err == nil {
				news, err = recordStripeNews(ctx, logger, before, *in.News)
			}
		}
		res.Order = news.order
		events = news.events
		if rf := news.refund; rf != nil {
			res.Refund = *rf
			switch rf.Status {
			case models.RefundSucceeded:
				events = append(events, activities.NotifyInput{EventType: EventOrderRefunded, Ref: activities.RefundRef(rf.Key)})
			case models.RefundFailed:
				events = append(events, activities.NotifyInput{EventType: EventOrderRefundFailed,
					Ref: activities.RefundRef(rf.Key), Refund: refundFailedData(*rf, in.News.FailureReason)})
			}
		}
	case in.Resolve != nil:
		var resolved *models.Refund
		res.Order, resolved, err = resolveEnded(ctx, logger, in.OrderID, *in.Resolve)
		if resolved != nil {
			res.Refund = *resolved
			events = append(events, activities.NotifyInput{EventType: EventOrderRefunded, Ref: activities.RefundRef(resolved.Key)})
		}
	}
	if news := in.News; news != nil && err == nil && res.Refund.Status == models.RefundFailed && res.Order.Status == models.StatusCancelled {
		// The cancel gave all the money back and part of it failed: the
		// buyer is short, an operator must see it.
		res.Order, err = recordEnded(ctx, logger, models.StatusChange{OrderID: in.OrderID, To: models.StatusNeedsAttention,
			Actor: models.ActorSystem, FailureCode: stepRefund + "_failed",
			Detail: "a refund failed at the payment service after the order was cancelled: " + news.FailureReason})
	}
	if len(events) > 0 {
		t.sendInSequence(ctx, in.OrderID, res.Order, events)
	}
	if e := domainError(err); e != nil {
		return res, failures.ToTemporal(e)
	}
	return res, err
}

// sendInSequence delivers events one after the other, numbered on from the
// order's last event, each with the order as it is now.
func (t Timing) sendInSequence(ctx workflow.Context, orderID string, o models.Order, events []activities.NotifyInput) {
	logger := orderLogger(ctx, orderID)
	var first int
	if err := storeStep(ctx, logger, durableStoreOptions, &first, acts.TakeEventSequences, orderID, len(events)); err != nil {
		logger.Error("Taking event sequence numbers failed; events go unnumbered", "error", err)
	}
	actx := workflow.WithActivityOptions(ctx, t.notifyOptions())
	for i, ev := range events {
		ev.OrderID = orderID
		if first > 0 {
			ev.Sequence = first + i
		}
		if o.ID == orderID && o.MerchantID != "" {
			snapshot := o
			ev.Order = &snapshot
		}
		ev.OccurredAt = workflow.Now(ctx)
		if err := workflow.ExecuteActivity(actx, acts.NotifyMerchant, ev).Get(ctx, nil); err != nil {
			logger.Warn("Merchant notification not delivered", "EventType", ev.EventType, "Sequence", ev.Sequence, "error", err)
		}
	}
}

// recordEnded writes a status change of an ended order.
func recordEnded(ctx workflow.Context, logger log.Logger, c models.StatusChange) (models.Order, error) {
	var o models.Order
	err := storeStep(ctx, logger, durableStoreOptions, &o, acts.RecordStatus, c)
	return o, err
}

// resolveEnded settles an ended order that needs attention, as the order's
// workflow would: retry refunds whatever of the capture is not refunded
// (under a key of this run's own), resolved records an operator's word. The
// order returns to cancelled; a retry that fails again leaves it as it is.
func resolveEnded(ctx workflow.Context, logger log.Logger, orderID string, in ResolveInput) (models.Order, *models.Refund, error) {
	var o models.Order
	if err := storeStep(ctx, logger, durableStoreOptions, &o, acts.LoadOrder, orderID); err != nil {
		return models.Order{}, nil, err
	}
	if o.Status != models.StatusNeedsAttention {
		return o, nil, failures.ToTemporal(models.Conflict("not_needing_attention", "order is %s, not %s", o.Status, models.StatusNeedsAttention))
	}
	detail := "resolved by an operator"
	var refunded *models.Refund
	if in.Action == ResolveRetry {
		detail = "retried: " + stepRefund
		key := activities.RefundKeyCancel + "-" + workflow.GetInfo(ctx).WorkflowExecution.RunID
		res, _, err := runRefund(ctx, logger, models.NewRefund{OrderID: orderID, Key: key,
			Reason: "requested_by_customer", Actor: in.Actor})
		switch e := domainError(err); {
		case e != nil && e.Code == codeAlreadyRefunded:
		case err != nil:
			return o, nil, err
		case res.Refund.Status == models.RefundSucceeded:
			res.Refund.Key = key
			refunded = &res.Refund
		}
	}
	if in.Note != "" {
		detail += ": " + in.Note
	}
	o, err := recordEnded(ctx, logger, models.StatusChange{OrderID: orderID, To: models.StatusCancelled, Actor: in.Actor,
		Detail: detail, ClearFailureCode: true})
	return o, refunded, err
}
