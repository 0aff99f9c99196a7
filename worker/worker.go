// Package worker registers the purchase workflow and its activities on a
// Temporal worker with the options the checkout needs.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/workflows"
)

// Options tunes a worker. Zero values take the defaults below.
type Options struct {
	// MaxConcurrentActivities bounds Stripe and webhook calls in flight.
	MaxConcurrentActivities int
	// MaxConcurrentLocalActivities bounds database steps in flight.
	MaxConcurrentLocalActivities int
	// Timing shortens a few waits for tests on a real server; zero is
	// production's.
	Timing workflows.Timing
}

// On two cores the engine saturates at a few dozen purchases in flight
// (see README, Performance); more pollers only add contention.
const (
	defaultMaxActivities      = 64
	defaultMaxLocalActivities = 64
)

// New builds a worker for the task queue with everything registered. It
// refuses activities that lack a dependency (activities.Check): a wiring
// mistake stops the start-up, not a refund days later.
func New(c client.Client, taskQueue string, acts *activities.Activities, o Options) (worker.Worker, error) {
	if err := acts.Check(); err != nil {
		return nil, err
	}
	if o.MaxConcurrentActivities == 0 {
		o.MaxConcurrentActivities = defaultMaxActivities
	}
	if o.MaxConcurrentLocalActivities == 0 {
		o.MaxConcurrentLocalActivities = defaultMaxLocalActivities
	}
	w := worker.New(c, taskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize:      o.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentLocalActivities,
		// Handlers must finish before a purchase completes; a worker that
		// stops hands its tasks back instead of dropping them.
		WorkerStopTimeout: 10 * time.Second,
	})
	RegisterWorkflows(w, o.Timing)
	w.RegisterActivity(acts)
	return w, nil
}

// Register puts the workflow and activities on any registry (a worker, or the
// SDK's test environment).
func Register(r worker.Registry, acts *activities.Activities) {
	RegisterWorkflows(r, workflows.Timing{})
	r.RegisterActivity(acts)
}

// WorkflowRegistry is where workflows are registered: a worker, the SDK's
// test environment, or a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// RegisterWorkflows registers every workflow under its name, with the
// worker's timing.
func RegisterWorkflows(r WorkflowRegistry, t workflows.Timing) {
	r.RegisterWorkflowWithOptions(t.Purchase, workflow.RegisterOptions{Name: workflows.PurchaseWorkflowName})
	// RefundWorkflow is no longer started (refunds are updates of the
	// order's workflow); it stays registered for runs started before.
	r.RegisterWorkflowWithOptions(workflows.RefundWorkflow, workflow.RegisterOptions{Name: workflows.RefundWorkflowName})
	r.RegisterWorkflowWithOptions(t.EndedOrder, workflow.RegisterOptions{Name: workflows.EndedOrderWorkflowName})
	r.RegisterWorkflowWithOptions(t.WebhookReplay, workflow.RegisterOptions{Name: workflows.WebhookReplayWorkflowName})
	r.RegisterWorkflowWithOptions(t.MerchantEvent, workflow.RegisterOptions{Name: workflows.MerchantEventWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ProfileErasureWorkflow, workflow.RegisterOptions{Name: workflows.ProfileErasureWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ProfileCardWorkflow, workflow.RegisterOptions{Name: workflows.ProfileCardWorkflowName})
	r.RegisterWorkflowWithOptions(t.AccountEvents, workflow.RegisterOptions{Name: workflows.AccountEventsWorkflowName})
}
