package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity options, one value per kind of step, each with an explicit retry
// policy. Errors made by failures.ToTemporal that a retry cannot fix (declined,
// invalid, sold out…) are non-retryable whatever the policy says.

// localStoreOptions: validation, stock and status writes are short database
// calls run in the workflow task, so the buyer's answer stays fast. A handful
// of quick attempts rides over a lock timeout; a longer outage is not hidden
// inside a workflow task.
var localStoreOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    5 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    200 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    5,
	},
}

// durableStoreOptions take over a store write that must not be lost (status
// record, stock release) when the local attempts ran out: as a regular
// activity it survives worker restarts and keeps trying while the database is down.
var durableStoreOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 7 * 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// purchaseStoreOptions take over validation and reservation when their local
// attempts ran out: a database outage of up to an hour delays the purchase
// (the buyer is answered 202 pending after PAY_WAIT and the order finishes
// later) instead of failing it. Past the hour the purchase gives up, with
// the stock released and a terminal status recorded.
var purchaseStoreOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// authorizeOptions: the buyer is waiting on the pay update, so after two
// minutes of Stripe trouble we answer payment_failed rather than hang. The
// idempotency key makes every attempt the same PaymentIntent.
var authorizeOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// captureOptions: the merchant has accepted, so the money must be taken; a
// day of retries rides over a Stripe outage and still lands well inside the
// authorization's seven-day life.
var captureOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
	},
}

// compensationOptions (void, refund): giving money back must eventually
// happen, so they retry for a week; the idempotency keys make that safe.
var compensationOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 7 * 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
	},
}

// notifyOptions: merchants' endpoints go down for hours; three days of
// backoff (at most hourly) matches what merchants expect from webhooks. The
// event id is stable, so they can drop duplicates.
var notifyOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 72 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    5 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Hour,
	},
}

// notifyOptionsFor is notifyOptions with the input's first retry interval,
// if it sets one. Only the first interval changes: the three-day budget and
// the hourly cap stay.
func notifyOptionsFor(in PurchaseInput) workflow.ActivityOptions {
	return notifyOptionsWithInterval(in.NotifyRetryInterval)
}

func notifyOptionsWithInterval(d time.Duration) workflow.ActivityOptions {
	o := notifyOptions
	if d > 0 {
		rp := *o.RetryPolicy
		rp.InitialInterval = d
		o.RetryPolicy = &rp
	}
	return o
}
