package workflows

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
)

// outbox holds the order's events for its merchant and sends them one at a
// time (or, in a leanStoreOutbox workflow, keeps them in the store's outbox,
// whose dispatcher sends them the same way), in the order they happened: each carries a sequence number and the
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
	ev := b.next(ctx, p, eventType, ref)
	ev.Refund, ev.Dispute = refund, dispute
	b.enqueue(ctx, p, ev)
}

// enqueue queues a numbered event for the delivery coroutine.
func (b *outbox) enqueue(ctx workflow.Context, p *purchase, ev activities.NotifyInput) {
	b.queue = append(b.queue, ev)
	b.start(ctx, p)
}

// start runs the delivery coroutine, once. It is detached, so events of an
// order whose workflow is being cancelled still leave (the cancellation's
// order.cancelled among them).
func (b *outbox) start(ctx workflow.Context, p *purchase) {
	if !b.started {
		b.started = true
		workflow.Go(detached(ctx), func(ctx workflow.Context) { b.deliver(ctx, p) })
	}
}

// next numbers a new event about p's order as it is now; an ending
// supersedes any order.created not yet sent.
func (b *outbox) next(ctx workflow.Context, p *purchase, eventType, ref string) activities.NotifyInput {
	ev := b.peek(ctx, p, eventType)
	ev.Ref = ref
	b.sequence = ev.Sequence
	if endingEvents[eventType] {
		b.supersedeCreated()
	}
	return ev
}

// peek is the event next would make, without taking its sequence number:
// for a step that may keep it (AuthorizeRecordAndAnnounce), after which the
// number is taken.
func (b *outbox) peek(ctx workflow.Context, p *purchase, eventType string) activities.NotifyInput {
	snapshot := p.order
	return activities.NotifyInput{OrderID: p.order.ID, EventType: eventType,
		Sequence: b.sequence + 1, Order: &snapshot, OccurredAt: workflow.Now(ctx)}
}

// recordAndPublish is p.record(c) followed by publishing eventType. A
// leanStoreOutbox workflow whose outbox has nothing waiting keeps the event
// in the same store step as the change (RecordStatusAndNotify), carrying the
// order as the change left it; should that step fail for good, the event
// goes the usual way.
func (b *outbox) recordAndPublish(ctx workflow.Context, p *purchase, c models.StatusChange, eventType string) {
	if !p.storeOutbox || !b.idle() {
		p.record(ctx, c)
		b.publish(ctx, p, eventType, "")
		return
	}
	ev := b.next(ctx, p, eventType, "")
	if err := p.recordWith(ctx, c, acts.RecordStatusAndNotify, ev, supersededBy(eventType)); err != nil {
		snapshot := p.order
		ev.Order = &snapshot
		b.enqueue(ctx, p, ev)
	}
}

// supersededBy is the event type eventType makes moot, if any.
func supersededBy(eventType string) string {
	if endingEvents[eventType] {
		return EventOrderCreated
	}
	return ""
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
		var err error
		if p.storeOutbox {
			err = keepEvent(sctx, p.logger, ev)
		} else {
			opts := p.timing.notifyOptions()
			// Wait for a stopped attempt to end, so what follows cannot
			// overtake it.
			opts.WaitForCancellation = true
			err = workflow.ExecuteActivity(workflow.WithActivityOptions(sctx, opts), acts.NotifyMerchant, ev).Get(sctx, nil)
		}
		stop()
		b.sending, b.stop = nil, nil
		if err != nil {
			p.logger.Warn("Merchant notification not delivered", "EventType", ev.EventType, "Sequence", ev.Sequence, "error", err)
		}
	}
}

// keepEvent puts ev in the store's merchant outbox, from where the worker's
// dispatcher sends it in the order's sequence. An ending supersedes an
// order.created still waiting there, as supersedeCreated does here.
func keepEvent(ctx workflow.Context, logger log.Logger, ev activities.NotifyInput) error {
	return storeStep(ctx, logger, durableStoreOptions, nil, acts.EnqueueMerchantEvent, ev, supersededBy(ev.EventType))
}

// idle reports whether every queued event has left (or given up).
func (b *outbox) idle() bool { return len(b.queue) == 0 && b.sending == nil }
