package activities

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/store"
)

// Outbox keeps an order's merchant events until they are sent;
// *store.Store satisfies it.
type Outbox interface {
	EnqueueOutboxEvent(ctx context.Context, e store.NewOutboxEvent) error
	TakeOutboxEvents(ctx context.Context, limit int, leaseFor time.Duration) ([]store.OutboxEvent, error)
	FinishOutboxEvent(ctx context.Context, ev store.OutboxEvent, state string, retryAt time.Time) error
	OutboxPendingBefore(ctx context.Context, orderID string, seq int) (bool, error)
	ApplyStatusChangeAndKeep(ctx context.Context, c models.StatusChange, event func(models.Order) (store.NewOutboxEvent, error)) (models.Order, error)
	PruneOutbox(ctx context.Context, before time.Time) (int64, error)
	OutboxBacklog(ctx context.Context) (int64, time.Time, error)
}

// Metrics of the merchant outbox, through the dispatcher's handler: how
// many events wait to be sent, and how long the oldest of them has.
const (
	MetricOutboxPending       = "checkout_merchant_outbox_pending"
	MetricOutboxOldestSeconds = "checkout_merchant_outbox_oldest_seconds"
)

func (a *Activities) outbox() Outbox {
	o, _ := a.Store.(Outbox)
	return o
}

// EnqueueMerchantEvent keeps one of the order's events in the merchant
// outbox, from where the worker's dispatcher sends it (Dispatcher). It runs
// as a store step of the order's workflow: the event is durable once the
// step returns, and keeping it again (a retried step) keeps it once.
// supersedes names the event type this one makes moot, if any.
func (a *Activities) EnqueueMerchantEvent(ctx context.Context, in NotifyInput, supersedes string) error {
	e, err := outboxEvent(in, supersedes)
	if err == nil {
		err = a.outbox().EnqueueOutboxEvent(ctx, e)
	}
	if err != nil {
		return failures.ToTemporal(err)
	}
	a.nudge()
	return nil
}

// RecordStatusAndNotify is RecordStatus that keeps the merchant event in
// the outbox in the same transaction, carrying the order as the change left
// it: one store step for a status change and the news of it.
func (a *Activities) RecordStatusAndNotify(ctx context.Context, c models.StatusChange, in NotifyInput, supersedes string) (models.Order, error) {
	o, err := a.outbox().ApplyStatusChangeAndKeep(ctx, c, func(o models.Order) (store.NewOutboxEvent, error) {
		in.Order = &o
		return outboxEvent(in, supersedes)
	})
	if err != nil {
		return models.Order{}, failures.ToTemporal(err)
	}
	a.nudge()
	return o, nil
}

// outboxEvent is in as the outbox keeps it.
func outboxEvent(in NotifyInput, supersedes string) (store.NewOutboxEvent, error) {
	payload, err := json.Marshal(in)
	return store.NewOutboxEvent{OrderID: in.OrderID, Sequence: in.Sequence, EventType: in.EventType,
		Payload: payload, Supersedes: supersedes}, err
}

// nudge tells this worker's dispatcher an event was just kept.
func (a *Activities) nudge() {
	if a.Dispatch != nil {
		a.Dispatch.Nudge()
	}
}

// waitForOutbox fails (retryably) while an event of in's order with a lower
// sequence is still waiting to be sent: events sent by a workflow's own
// activity (an ended order's) keep their place behind the outbox's.
func (a *Activities) waitForOutbox(ctx context.Context, in NotifyInput) error {
	ob := a.outbox()
	if ob == nil || in.Sequence <= 0 {
		return nil
	}
	pending, err := ob.OutboxPendingBefore(ctx, in.OrderID, in.Sequence)
	if err != nil {
		return err
	}
	if pending {
		return models.Errorf(models.KindUnavailable, "events_pending", "earlier events of the order are still waiting in the outbox")
	}
	return nil
}

// Dispatcher sends the merchant outbox's events. Each worker runs one;
// several share the outbox through leases, and one order's events leave one
// at a time, in sequence. An attempt that fails is retried with backoff
// (RetryInitial doubling to RetryMax) until RetryFor after the event was
// kept, then given up, as a workflow's notification activity was.
type Dispatcher struct {
	Activities *Activities
	// Metrics counts attempts (MetricWebhookDeliveries); nil counts nothing.
	Metrics client.MetricsHandler
	OutboxOptions

	nudge chan struct{}
	once  sync.Once
}

// OutboxOptions tunes a Dispatcher; zero values take the defaults below.
type OutboxOptions struct {
	// Poll is how often the outbox is read when nothing nudged; Batch how
	// many attempts run at once; Lease how long an attempt holds its event.
	Poll, Lease time.Duration
	Batch       int
	// RetryInitial doubles to RetryMax between attempts; RetryFor after
	// the event was kept it is given up.
	RetryInitial, RetryMax, RetryFor time.Duration
	// Retention is how long an event that left stays in the outbox: past
	// the week a workflow's store step may be retried in, so a late retry
	// finds it and keeps it once.
	Retention time.Duration
}

// Dispatcher defaults, matching the notification activity's retry policy.
const (
	DefaultOutboxPoll  = time.Second
	DefaultOutboxBatch = 16
	// DefaultOutboxLease outlasts one delivery (notify.DefaultTimeout).
	DefaultOutboxLease  = notify.DefaultTimeout + 20*time.Second
	DefaultRetryInitial = 5 * time.Second
	DefaultRetryMax     = time.Hour
	DefaultRetryFor     = 72 * time.Hour
	DefaultRetention    = 14 * 24 * time.Hour
	pruneEvery          = time.Hour
	backlogEvery        = 10 * time.Second
)

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.nudge = make(chan struct{}, 1)
		set := func(v *time.Duration, def time.Duration) {
			if *v <= 0 {
				*v = def
			}
		}
		set(&d.Poll, DefaultOutboxPoll)
		set(&d.Lease, DefaultOutboxLease)
		set(&d.RetryInitial, DefaultRetryInitial)
		set(&d.RetryMax, DefaultRetryMax)
		set(&d.RetryFor, DefaultRetryFor)
		set(&d.Retention, DefaultRetention)
		if d.Batch <= 0 {
			d.Batch = DefaultOutboxBatch
		}
	})
}

// Nudge has the dispatcher read the outbox now: an event was just kept.
func (d *Dispatcher) Nudge() {
	d.init()
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// Run sends events until ctx ends. Attempts in flight when it ends are
// abandoned to their leases, so another dispatcher sends them again.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	ob := d.Activities.outbox()
	if ob == nil {
		return
	}
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	slots := make(chan struct{}, d.Batch)
	tick := time.NewTicker(d.Poll)
	defer tick.Stop()
	var pruned, measured time.Time
	for {
		if d.Metrics != nil && time.Since(measured) >= backlogEvery {
			measured = time.Now()
			d.measure(ctx, ob)
		}
		if time.Since(pruned) >= pruneEvery {
			pruned = time.Now()
			if _, err := ob.PruneOutbox(ctx, pruned.Add(-d.Retention)); err != nil && ctx.Err() == nil {
				d.Activities.log().WarnContext(ctx, "pruning the merchant outbox failed", "error", err)
			}
		}
		// At most Batch attempts in flight: each holds a database connection
		// only for its reads and writes, and a slow endpoint holds a slot
		// for at most its timeout.
		if free := cap(slots) - len(slots); free > 0 {
			evs, err := ob.TakeOutboxEvents(ctx, free, d.Lease)
			if err != nil && ctx.Err() == nil {
				d.Activities.log().WarnContext(ctx, "reading the merchant outbox failed", "error", err)
			}
			for _, ev := range evs {
				slots <- struct{}{}
				inFlight.Add(1)
				go func() {
					defer inFlight.Done()
					d.send(ctx, ob, ev)
					<-slots
					// A slot is free, and the order's next event may be due.
					d.Nudge()
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.nudge:
		case <-tick.C:
		}
	}
}

// measure reports the outbox's backlog.
func (d *Dispatcher) measure(ctx context.Context, ob Outbox) {
	n, oldest, err := ob.OutboxBacklog(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	d.Metrics.Gauge(MetricOutboxPending).Update(float64(n))
	d.Metrics.Gauge(MetricOutboxOldestSeconds).Update(age)
}

// send makes one attempt at ev and records its outcome.
func (d *Dispatcher) send(ctx context.Context, ob Outbox, ev store.OutboxEvent) {
	a := d.Activities
	var in NotifyInput
	err := json.Unmarshal(ev.Payload, &in)
	if err == nil {
		err = a.deliver(ctx, in, d.Metrics)
	}
	if ctx.Err() != nil {
		return // stopping: the lease hands the event on
	}
	state, retryAt := store.OutboxDelivered, time.Time{}
	switch {
	case err == nil:
	case models.ErrorKind(err) == models.KindInvalid, time.Since(ev.CreatedAt) >= d.RetryFor:
		state = store.OutboxFailed
		a.log().WarnContext(ctx, "merchant event given up", "order_id", ev.OrderID, "event_type", ev.EventType,
			"sequence", ev.Sequence, "attempts", ev.Attempts, "error", err)
	default:
		state, retryAt = store.OutboxPending, time.Now().Add(d.backoff(ev.Attempts))
	}
	// The outcome must be kept even as the worker stops.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := ob.FinishOutboxEvent(fctx, ev, state, retryAt); ferr != nil {
		// The lease runs out and the event is sent again: at least once.
		a.log().WarnContext(ctx, "recording a merchant event's attempt failed", "order_id", ev.OrderID, "error", ferr)
	}
}

// backoff is the wait after the attempt-th failed attempt.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	w := d.RetryInitial
	for i := 1; i < attempt && w < d.RetryMax; i++ {
		w *= 2
	}
	return min(w, d.RetryMax)
}
