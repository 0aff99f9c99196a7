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

func engineWorkflow(ctx workflow.Context, orderID string) error {
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
	chargeErr = workflow.ExecuteActivity(actx, engineChargeName, orderID).Get(ctx, &chargeID)
	charged = true
	if chargeErr != nil {
		return chargeErr
	}
	if err := workflow.ExecuteActivity(actx, engineNotifyName, orderID).Get(ctx, nil); err != nil {
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
}

// engineRound runs n engine workflows, c at a time, each to completion; the
// latency is update-with-start to the pay update's answer.
func engineRound(tc client.Client, prefix string, n, c int) roundResult {
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	failed := 0
	began := time.Now()
	forEach(n, c, func(i int) {
		id := fmt.Sprintf("%s-%d", prefix, i)
		d, err := engineOne(tc, id)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			return
		}
		lat = append(lat, d)
	})
	return roundResult{perSec: float64(len(lat)) / time.Since(began).Seconds(), lat: lat, failed: failed}
}

func engineOne(tc client.Client, id string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	op := tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                engineTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, engineWorkflowName, id)
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
	d := time.Since(t0)
	if err != nil {
		return d, err
	}
	for _, s := range []string{engineSignalAccept, engineSignalShip} {
		if err := tc.SignalWorkflow(ctx, id, "", s, nil); err != nil {
			return d, err
		}
	}
	return d, tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
}
