package worker

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// An activity with a heartbeat timeout heartbeats while it waits, without
// calling RecordHeartbeat itself: the activity below returns only once it
// has been seen heartbeating twice, and its start-to-close timeout fails the
// test otherwise. One without a heartbeat timeout never heartbeats.
func TestActivitiesHeartbeatWhileTheyRun(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{&heartbeats{}}})
	beats := make(chan string, 16)
	env.SetOnActivityHeartbeatListener(func(info *activity.Info, _ converter.EncodedValues) {
		beats <- info.ActivityType.Name
	})
	waitForBeats := func(ctx context.Context) error {
		for range 2 {
			select {
			case <-beats:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	quick := func(context.Context) error { return nil }
	env.RegisterActivityWithOptions(waitForBeats, activity.RegisterOptions{Name: "waitForBeats"})
	env.RegisterActivityWithOptions(quick, activity.RegisterOptions{Name: "quick"})
	wf := func(ctx workflow.Context) error {
		noBeat := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteActivity(noBeat, "quick").Get(ctx, nil); err != nil {
			return err
		}
		beat := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Second, HeartbeatTimeout: 400 * time.Millisecond,
		})
		return workflow.ExecuteActivity(beat, "waitForBeats").Get(ctx, nil)
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "beats"})
	env.ExecuteWorkflow("beats")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	close(beats)
	for name := range beats {
		if name != "waitForBeats" {
			t.Errorf("activity %s heartbeated without a heartbeat timeout", name)
		}
	}
}

func TestHeartbeatInterval(t *testing.T) {
	for _, c := range []struct {
		local   bool
		timeout time.Duration
		want    time.Duration
	}{
		{false, 4 * time.Second, time.Second},
		{false, 0, 0},
		{true, 4 * time.Second, 0},
	} {
		if got := heartbeatInterval(c.local, c.timeout); got != c.want {
			t.Errorf("heartbeatInterval(%t, %s) = %s, want %s", c.local, c.timeout, got, c.want)
		}
	}
}
