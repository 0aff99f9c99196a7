package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// ProfileErasureWorkflowName is the erasure workflow as the API and Temporal UI see it.
const ProfileErasureWorkflowName = "ProfileErasureWorkflow"

// ProfileErasureWorkflowID names the erasure of one profile. The profile id
// is derived from an order id and carries no personal data.
func ProfileErasureWorkflowID(profileID string) string { return "profile-erasure-" + profileID }

// ProfileErasureInput names what is left at Stripe once the store forgot the
// buyer. Stripe ids are not personal data on their own.
type ProfileErasureInput struct {
	ProfileID       string `json:"profile_id"`
	PaymentMethodID string `json:"payment_method_id"`
}

// detachOptions: an erasure must complete even through a long Stripe
// outage, as giving money back must: a week of retries, which the
// idempotency key makes one request.
var detachOptions = compensationOptions

// ProfileErasureWorkflow detaches an erased profile's card at Stripe. It is
// a workflow rather than a call in the API request so that the erasure the
// buyer was promised happens even if Stripe is down when they ask.
func ProfileErasureWorkflow(ctx workflow.Context, in ProfileErasureInput) error {
	if in.PaymentMethodID == "" {
		return nil
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, detachOptions), acts.DetachSavedCard,
		in.ProfileID, in.PaymentMethodID).Get(ctx, nil)
}
