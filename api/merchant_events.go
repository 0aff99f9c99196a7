package api

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/workflows"
)

// announceAccountChange has Temporal tell the merchant's webhook of a key or
// webhook change just committed (its audit event). A failure to start is
// logged: the change stands, and the event goes out with the next one.
func (a *app) announceAccountChange(ctx context.Context, merchantID string) {
	_, err := a.cfg.Temporal.SignalWithStartWorkflow(ctx, workflows.AccountEventsWorkflowID(merchantID),
		workflows.SignalAccountChanged, nil, client.StartWorkflowOptions{
			ID:        workflows.AccountEventsWorkflowID(merchantID),
			TaskQueue: a.cfg.TaskQueue,
		}, workflows.AccountEventsWorkflowName, merchantID)
	if err != nil {
		a.cfg.Logger.WarnContext(ctx, "announcing an account change failed", "merchant_id", merchantID, "error", err)
	}
}
