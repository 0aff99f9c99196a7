package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
)

// outbox holds the order's events for its merchant and sends them one at a
// time, in the order they happened: each carries a sequence number and the
// order as it was when the event happened, and the next waits until the one
// before was delivered or gave up. An event that ends the order supersedes an
// order.created still waiting: the merchant gets order.created then the
// ending, or only the ending, never the reverse.
type outbox struct {
	queue    []activities.NotifyInput
	sequence int
	sending  *activities.NotifyInput // in flight
	stop     workflow.CancelFunc     // cancels the delivery in flight
	started  bool
}

// endingEvents are the events after which nothing is left to fulfil.
var endingEvents = map[string]bool{
	EventOrderCancelled: true, EventOrderExpired: true, EventOrderPaymentFailed: true,
}

// publish queues an event about p's order as it is now.
func (b *outbox) publish(ctx workflow.Context, p *purchase, eventType, ref string) {
	b.publishAbout(ctx, p, eventType, ref, nil, nil)
}

// publishAbout is publish for an event about one refund or dispute, with
// that refund or dispute as it is now.
func (b *outbox) publishAbout(ctx workflow.Context, p *purchase, eventType, ref string,
	refund *activities.WebhookRefund, dispute *activities.WebhookDispute) {
	b.sequence++
	snapshot := p.order
	ev := activities.NotifyInput{OrderID: p.order.ID, EventType: eventType, Ref: ref,
		Sequence: b.sequence, Order: &snapshot, OccurredAt: workflow.Now(ctx), Refund: refund, Dispute: dispute}
	if endingEvents[eventType] {
		b.supersedeCreated()
	}
	b.queue = append(b.queue, ev)
	if !b.started {
		b.started = true
		// Detached, so events of an order whose workflow is being cancelled
		// still leave (the cancellation's order.cancelled among them).
		workflow.Go(detached(ctx), func(ctx workflow.Context) { b.deliver(ctx, p) })
	}
}

// supersedeCreated drops an order.created that has not left yet and stops
// one in flight: its current attempt finishes (or is abandoned) before the
// ending is sent, and it is not retried.
func (b *outbox) supersedeCreated() {
	kept := b.queue[:0]
	for _, ev := range b.queue {
		if ev.EventType != EventOrderCreated {
			kept = append(kept, ev)
		}
	}
	b.queue = kept
	if b.sending != nil && b.sending.EventType == EventOrderCreated {
		b.stop()
	}
}

func (b *outbox) deliver(ctx workflow.Context, p *purchase) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(b.queue) > 0 }); err != nil {
			return
		}
		ev := b.queue[0]
		b.queue = b.queue[1:]
		sctx, stop := workflow.WithCancel(ctx)
		b.sending, b.stop = &ev, stop
		opts := p.timing.notifyOptions()
		// Wait for a stopped attempt to end, so what follows cannot
		// overtake it.
		opts.WaitForCancellation = true
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(sctx, opts), acts.NotifyMerchant, ev).Get(sctx, nil)
		stop()
		b.sending, b.stop = nil, nil
		if err != nil {
			p.logger.Warn("Merchant notification not delivered", "EventType", ev.EventType, "Sequence", ev.Sequence, "error", err)
		}
	}
}

// idle reports whether every queued event has left (or given up).
func (b *outbox) idle() bool { return len(b.queue) == 0 && b.sending == nil }
