package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Timing shortens a few waits for tests and drills that run on a real
// server, where time cannot be skipped. It is the worker's setting
// (worker.Options), never part of a workflow input, so nothing of it is
// persisted in a history; the zero Timing is production's.
type Timing struct {
	// NotifyRetryInterval is the first backoff of merchant webhooks (the
	// three-day budget and the hourly cap stay).
	NotifyRetryInterval time.Duration
	// AuthorizeTimeout is how long authorization is retried before the
	// outcome counts as unknown.
	AuthorizeTimeout time.Duration
	// AuthorizationSearchInterval is the first wait between searches for an
	// authorization whose answer was lost (the number of searches stays).
	AuthorizationSearchInterval time.Duration
}

func (t Timing) notifyOptions() workflow.ActivityOptions {
	o := notifyOptions
	if d := t.NotifyRetryInterval; d > 0 {
		rp := *o.RetryPolicy
		rp.InitialInterval = d
		o.RetryPolicy = &rp
	}
	return o
}

func (t Timing) authorizeOptions() workflow.ActivityOptions {
	o := authorizeOptions
	if t.AuthorizeTimeout > 0 {
		o.ScheduleToCloseTimeout = t.AuthorizeTimeout
	}
	return o
}

func (t Timing) findAuthorizationOptions() workflow.ActivityOptions {
	o := findAuthorizationOptions
	if d := t.AuthorizationSearchInterval; d > 0 {
		rp := *o.RetryPolicy
		rp.InitialInterval, rp.MaximumInterval = d, 4*d
		o.RetryPolicy = &rp
	}
	return o
}
