package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// AccountEventsWorkflowName tells one merchant of its key and webhook
// changes, in the order they happened.
const AccountEventsWorkflowName = "AnnounceAccountEvents"

// SignalAccountChanged tells the merchant's account-events workflow that an
// audit event was written; the API sends it with signal-with-start.
const SignalAccountChanged = "account-changed"

// AccountEventsWorkflowID is one per merchant, so announcements never race.
func AccountEventsWorkflowID(merchantID string) string { return "account-events-" + merchantID }

// AccountEventsWorkflow announces the merchant's unannounced audit events,
// then again for as long as changes keep being signalled meanwhile, so an
// event written while a delivery was running is never left behind.
func AccountEventsWorkflow(ctx workflow.Context, merchantID string) error {
	changed := workflow.GetSignalChannel(ctx, SignalAccountChanged)
	ctx = workflow.WithActivityOptions(ctx, notifyOptions)
	for {
		for changed.ReceiveAsync(nil) {
		}
		if err := workflow.ExecuteActivity(ctx, acts.AnnounceAccountEvents, merchantID).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("Announcing account events failed", "error", err)
			return err
		}
		if !changed.ReceiveAsync(nil) {
			return nil
		}
	}
}
