package workflows

import (
	"time"

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

// EndedOrderInput is one late request (Refund) or Stripe event (News).
type EndedOrderInput struct {
	OrderID string            `json:"order_id"`
	Refund  *RefundInput      `json:"refund,omitempty"`
	News    *StripeMoneyEvent `json:"news,omitempty"`
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
