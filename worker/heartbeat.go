package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// heartbeats is a worker interceptor that keeps every regular activity with
// a HeartbeatTimeout heartbeating while it runs, whatever it waits on (a
// Stripe call, a merchant's endpoint). A worker that dies stops
// heartbeating, so Temporal retries its attempts on another worker after the
// heartbeat timeout (seconds) instead of the start-to-close timeout; a live
// worker's slow call is still bounded by its HTTP client's timeout.
//
// The first heartbeat is sent one interval after the start, so the usual
// sub-second call costs no heartbeat at all.
type heartbeats struct {
	interceptor.WorkerInterceptorBase
}

func (*heartbeats) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &heartbeatActivity{}
	i.Next = next
	return i
}

type heartbeatActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (h *heartbeatActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if every := heartbeatInterval(info.IsLocalActivity, info.HeartbeatTimeout); every > 0 {
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					activity.RecordHeartbeat(ctx)
				case <-done:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return h.Next.ExecuteActivity(ctx, in)
}

// heartbeatInterval is how often an activity heartbeats: a quarter of its
// heartbeat timeout, so two heartbeats can be late before it counts as lost.
// Zero: no heartbeats (a local activity, or no timeout asked for).
func heartbeatInterval(local bool, timeout time.Duration) time.Duration {
	if local || timeout <= 0 {
		return 0
	}
	return timeout / 4
}
