package activities

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// orderLog is the logger for lines about one order: every such line carries
// order_id and workflow_id, so an operator can go from a log line to the
// workflow in Temporal UI and back.
func (a *Activities) orderLog(ctx context.Context, orderID string) *slog.Logger {
	l := a.log().With("order_id", orderID)
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		l = l.With("workflow_id", info.WorkflowExecution.ID, "activity", info.ActivityType.Name, "attempt", info.Attempt)
	}
	return l
}
