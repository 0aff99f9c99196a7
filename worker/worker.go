// Package worker registers the purchase workflow and its activities on a
// Temporal worker with the options the checkout needs.
package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
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
	// DeploymentName and BuildID opt the worker into Worker Versioning
	// (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID): its workflows are pinned
	// to the build that started them, and Temporal sends it tasks only once
	// its version is the deployment's current (or ramping) one — see
	// README, Deploying workflow code. Both empty: an unversioned worker
	// (make dev, tests).
	DeploymentName, BuildID string
	// Metrics counts the merchant outbox's deliveries (the activities'
	// own go through the client's handler); nil counts none.
	Metrics client.MetricsHandler
	// Outbox tunes the merchant outbox's dispatcher; zero: its defaults,
	// with Timing.NotifyRetryInterval as its first backoff when set.
	Outbox activities.OutboxOptions
}

// On two cores the engine saturates at a few dozen purchases in flight
// (see README, Performance); more pollers only add contention.
const (
	defaultMaxActivities      = 64
	defaultMaxLocalActivities = 64
)

// StopTimeout bounds a worker's shutdown: after it stops polling, running
// activities have this long to finish before their contexts are cancelled
// (Temporal then retries them elsewhere).
const StopTimeout = 10 * time.Second

// StickyScheduleToStartTimeout bounds how long a workflow task waits on the
// sticky queue of the worker that last ran the workflow (see New).
const StickyScheduleToStartTimeout = 2 * time.Second

// New builds a worker for the task queue with everything registered, and
// the merchant outbox's dispatcher beside it (acts.Dispatch is set to it, so
// an event kept by this worker leaves at once). It refuses activities that
// lack a dependency (activities.Check): a wiring mistake stops the start-up,
// not a refund days later.
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
	if (o.DeploymentName == "") != (o.BuildID == "") {
		return nil, errors.New("worker: a deployment name and a build id go together")
	}
	wo := worker.Options{
		MaxConcurrentActivityExecutionSize:      o.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentLocalActivities,
		// Handlers must finish before a purchase completes; a worker that
		// stops hands its tasks back instead of dropping them.
		WorkerStopTimeout: StopTimeout,
		// A workflow task (or an update) sent to a dead worker's sticky
		// queue waits this long before Temporal hands it to any worker of
		// the task queue; the SDK's default is 5 s. A live worker picks its
		// sticky tasks up in milliseconds.
		StickyScheduleToStartTimeout: StickyScheduleToStartTimeout,
		Interceptors:                 []interceptor.WorkerInterceptor{&heartbeats{}},
	}
	if o.BuildID != "" {
		wo.DeploymentOptions = worker.DeploymentOptions{
			UseVersioning: true,
			Version:       worker.WorkerDeploymentVersion{DeploymentName: o.DeploymentName, BuildID: o.BuildID},
			// An order runs for weeks; it keeps the code that started it.
			// New code reaches new orders only.
			DefaultVersioningBehavior: workflow.VersioningBehaviorPinned,
		}
	}
	w := worker.New(c, taskQueue, wo)
	RegisterWorkflows(w, o.Timing)
	w.RegisterActivity(acts)
	if o.Outbox.RetryInitial == 0 {
		// One knob for every webhook's first backoff.
		o.Outbox.RetryInitial = o.Timing.NotifyRetryInterval
	}
	d := &activities.Dispatcher{Activities: acts, Metrics: o.Metrics, OutboxOptions: o.Outbox}
	acts.Dispatch = d
	return &withOutbox{Worker: w, dispatch: d}, nil
}

// withOutbox is a Temporal worker with the merchant outbox's dispatcher:
// they start and stop together.
type withOutbox struct {
	worker.Worker
	dispatch *activities.Dispatcher

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

func (w *withOutbox) Start() error {
	if err := w.Worker.Start(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w.stop, w.done = cancel, make(chan struct{})
		go func() {
			defer close(w.done)
			w.dispatch.Run(ctx)
		}()
	}
	return nil
}

func (w *withOutbox) Run(interruptCh <-chan interface{}) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-interruptCh
	w.Stop()
	return nil
}

// Stop stops the worker, then the dispatcher; an attempt it abandons is
// sent again by another worker once its lease runs out.
func (w *withOutbox) Stop() {
	w.Worker.Stop()
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.stop = nil
	w.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
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
	r.RegisterWorkflowWithOptions(t.VersionedPurchase, workflow.RegisterOptions{Name: workflows.VersionedPurchaseWorkflowName})
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
