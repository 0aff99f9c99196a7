package workflows

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// orderLogger is the workflow logger for lines about one order. It carries
// order_id and workflow_id, the keys of the API's and the activities' lines,
// so one log query finds every line about an order (the SDK's own
// WorkflowID key stays as well).
func orderLogger(ctx workflow.Context, orderID string) log.Logger {
	return log.With(workflow.GetLogger(ctx), "order_id", orderID,
		"workflow_id", workflow.GetInfo(ctx).WorkflowExecution.ID)
}
