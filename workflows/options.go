package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
)

// Activity options, one value per kind of step, each with an explicit retry
// policy. Errors made by failures.ToTemporal that a retry cannot fix (declined,
// invalid, sold out…) are non-retryable whatever the policy says.
//
// Recovery from a dead worker: every regular activity heartbeats while it
// runs (the worker's interceptor, worker/heartbeat.go), so an attempt lost
// with its worker is retried elsewhere after attemptHeartbeat, not after its
// start-to-close timeout. The start-to-close timeout is only the ceiling of
// an attempt on a live worker: its Stripe calls times the Stripe client's
// own HTTP timeout (payments.HTTPTimeout), plus a margin.

// attemptHeartbeat is the heartbeat timeout of every regular activity: how
// long after its worker died an attempt is taken as lost.
const attemptHeartbeat = 4 * time.Second

// stripeAttempt is the start-to-close timeout of an attempt making calls
// Stripe calls in a row.
func stripeAttempt(calls int) time.Duration {
	return time.Duration(calls)*payments.HTTPTimeout + 5*time.Second
}

// PurchaseTaskTimeout is the purchase workflow's workflow-task timeout (the
// API starts it with it; the server's default is 10 s): a workflow task
// lost with its worker is handed to another after this long. Its local
// store steps take milliseconds; one slower than this keeps the task alive
// by heartbeating it, so this bounds recovery, not the steps.
const PurchaseTaskTimeout = 4 * time.Second

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
	HeartbeatTimeout:       attemptHeartbeat,
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
	HeartbeatTimeout:       attemptHeartbeat,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// authorizeOptions: the buyer is waiting on the pay update, so after two
// minutes of Stripe trouble we answer payment_failed rather than hang. The
// idempotency key makes every attempt the same PaymentIntent. A retry makes
// up to three Stripe calls (a search, then a create under the previous
// attempt's key and under its own).
var authorizeOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    stripeAttempt(3),
	HeartbeatTimeout:       attemptHeartbeat,
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
	StartToCloseTimeout:    stripeAttempt(1),
	HeartbeatTimeout:       attemptHeartbeat,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
	},
}

// localStripeAttempts is how many attempts a Stripe step on someone's
// waiting path makes as a local activity before it goes on as a regular one.
const localStripeAttempts = 2

// localStripeOptions are the local-activity phase of a Stripe step whose
// regular options are o: the same attempt timeout and first backoff, the
// same overall deadline, localStripeAttempts attempts. A local attempt whose
// worker dies is retried when its workflow task times out
// (PurchaseTaskTimeout), on another worker.
func localStripeOptions(o workflow.ActivityOptions) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    o.StartToCloseTimeout,
		ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    o.RetryPolicy.InitialInterval,
			BackoffCoefficient: o.RetryPolicy.BackoffCoefficient,
			MaximumAttempts:    localStripeAttempts,
		},
	}
}

// compensationOptions (void, refund): giving money back must eventually
// happen, so they retry for a week; the idempotency keys make that safe.
var compensationOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    stripeAttempt(2),
	HeartbeatTimeout:       attemptHeartbeat,
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
	StartToCloseTimeout:    notify.DefaultTimeout + 5*time.Second,
	HeartbeatTimeout:       attemptHeartbeat,
	ScheduleToCloseTimeout: 72 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    5 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Hour,
	},
}
