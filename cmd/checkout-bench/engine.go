package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The engine-only shape: a checkout-shaped workflow with no product code and
// activities that do no I/O. It measures the floor Temporal itself sets on
// this machine and server (update-with-start, a local validate+reserve, a
// regular charge, the pay update answering, a notify, two signals,
// completion), so the product's figures can be read as a ratio of it.
const (
	engineTaskQueue    = "bench-engine"
	engineWorkflowName = "BenchCheckoutShape"
	enginePayUpdate    = "pay"
	engineChargeName   = "BenchCharge"
	engineNotifyName   = "BenchNotify"
	engineSignalAccept = "accept"
	engineSignalShip   = "deliver"
)

// engineInput starts the engine shape; Local runs the charge and the notify
// as local activities too (the bench's -engine-local).
type engineInput struct {
	OrderID string
	Local   bool
}

func engineWorkflow(ctx workflow.Context, in engineInput) error {
	orderID := in.OrderID
	var (
		charged   bool
		chargeID  string
		chargeErr error
	)
	if err := workflow.SetUpdateHandler(ctx, enginePayUpdate, func(ctx workflow.Context) (string, error) {
		if err := workflow.Await(ctx, func() bool { return charged }); err != nil {
			return "", err
		}
		return chargeID, chargeErr
	}); err != nil {
		return err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, engineValidateReserve, orderID).Get(ctx, nil); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	step := func(name string, fn any) workflow.Future {
		if in.Local {
			return workflow.ExecuteLocalActivity(lctx, fn, orderID)
		}
		return workflow.ExecuteActivity(actx, name, orderID)
	}
	chargeErr = step(engineChargeName, engineCharge).Get(ctx, &chargeID)
	charged = true
	if chargeErr != nil {
		return chargeErr
	}
	if err := step(engineNotifyName, engineNotify).Get(ctx, nil); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, engineSignalAccept).Receive(ctx, nil)
	workflow.GetSignalChannel(ctx, engineSignalShip).Receive(ctx, nil)
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func engineValidateReserve(_ context.Context, orderID string) error {
	if orderID == "" {
		return fmt.Errorf("no order")
	}
	return nil
}

func engineCharge(_ context.Context, orderID string) (string, error) { return "ch_" + orderID, nil }

func engineNotify(context.Context, string) error { return nil }

// engineLocal is -engine-local.
var engineLocal bool

func startEngineWorker(tc client.Client) (worker.Worker, error) {
	w := worker.New(tc, engineTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(engineWorkflow, workflow.RegisterOptions{Name: engineWorkflowName})
	w.RegisterActivityWithOptions(engineCharge, activity.RegisterOptions{Name: engineChargeName})
	w.RegisterActivityWithOptions(engineNotify, activity.RegisterOptions{Name: engineNotifyName})
	return w, w.Start()
}

// roundResult is one round of one side: its throughput and the latencies of
// the answers the buyer (or the client) waited for.
type roundResult struct {
	perSec float64
	lat    []time.Duration
	failed int
	// lifecyclePerSec (engine only): workflows run to completion per second.
	lifecyclePerSec float64
}

// engineRound runs n engine workflows, c waiting for their pay answer at a
// time; the latency is update-with-start to the pay update's answer. As in
// the product, where the rest of an order (notify, the merchant's steps) goes
// on after the buyer's answer, each workflow's two signals and completion run
// after its slot is freed; perSec counts pay answers per second, and
// lifecyclePerSec workflows completed per second.
func engineRound(tc client.Client, prefix string, n, c int) roundResult {
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var tails sync.WaitGroup
	failed := 0
	began := time.Now()
	forEach(n, c, func(i int) {
		id := fmt.Sprintf("%s-%d", prefix, i)
		d, err := enginePay(tc, id)
		if err == nil {
			tails.Add(1)
			go func() {
				defer tails.Done()
				if err := engineFinish(tc, id); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}()
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			return
		}
		lat = append(lat, d)
	})
	payWall := time.Since(began)
	tails.Wait()
	return roundResult{perSec: float64(len(lat)) / payWall.Seconds(), lat: lat, failed: failed,
		lifecyclePerSec: float64(len(lat)) / time.Since(began).Seconds()}
}

// engineOne runs one engine workflow to completion.
func engineOne(tc client.Client, id string) (time.Duration, error) {
	d, err := enginePay(tc, id)
	if err != nil {
		return d, err
	}
	return d, engineFinish(tc, id)
}

func enginePay(tc client.Client, id string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	op := tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                engineTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, engineWorkflowName, engineInput{OrderID: id, Local: engineLocal})
	t0 := time.Now()
	h, err := tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName:   enginePayUpdate,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	var charge string
	if err == nil {
		err = h.Get(ctx, &charge)
	}
	return time.Since(t0), err
}

// engineFinish sends the two signals and waits for the workflow to complete.
func engineFinish(tc client.Client, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range []string{engineSignalAccept, engineSignalShip} {
		if err := tc.SignalWorkflow(ctx, id, "", s, nil); err != nil {
			return err
		}
	}
	return tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
}
