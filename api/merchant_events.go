package api

import (
	"context"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/workflows"
)

// startMerchantEvent has Temporal deliver an order event to the merchant:
// the API never calls merchants itself, so the delivery gets the activity's
// retries and delivery log and survives this process. The workflow id is the
// event id, so a second start (Stripe redelivering, a retried request) joins
// or finds the first instead of sending again.
func (a *app) startMerchantEvent(ctx context.Context, log *slog.Logger, in workflows.MerchantEventInput) error {
	in.RetryInterval = a.cfg.NotifyRetryInterval
	run, err := a.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.MerchantEventWorkflowID(in.EventID()),
		TaskQueue:                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Only a delivery that gave up may be started again under the same id.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		Memo:                  map[string]any{"order_id": in.OrderID, "event_type": in.EventType},
	}, workflows.MerchantEventWorkflowName, in)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil
	}
	if err != nil {
		return fromTemporal(err)
	}
	log.InfoContext(ctx, "merchant event started", slog.String("order_id", in.OrderID),
		slog.String("workflow_id", run.GetID()), slog.String("event_type", in.EventType))
	return nil
}

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
