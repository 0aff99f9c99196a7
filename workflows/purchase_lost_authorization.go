package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// changeRecoverLostAuthorization marks the version of the workflow that,
// when authorization's outcome is unknown, searches Stripe for the intent and
// voids it before ending payment_failed.
const changeRecoverLostAuthorization = "recover-lost-authorization"

// findAuthorizationOptions: Stripe's search lags its writes (documented: up
// to about a minute) and the attempt that went through may have been the
// last one before giving up. Six searches, at 0s, 15s, 45s, 1m45s, 2m45s
// and 3m45s, outlast that lag with room before "nothing found" is believed.
var findAuthorizationOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    stripeAttempt(1),
	HeartbeatTimeout:       attemptHeartbeat,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    15 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		MaximumAttempts:    6,
	},
}

// authorizationUnknown is called when AuthorizePayment failed without
// Stripe's word (retries ran out, or an attempt timed out): one attempt may
// still have authorized, its answer lost, leaving a hold on the buyer's card
// for about a week under an intent id we never learnt. The payment step's
// compensation then finds that intent by the order and voids it.
func (p *purchase) authorizationUnknown(ctx workflow.Context) {
	if !p.lean && workflow.GetVersion(ctx, changeRecoverLostAuthorization, workflow.DefaultVersion, 1) < 1 {
		return
	}
	p.saga.add(stepVoid, p.findAndVoidAuthorization)
}

// findAndVoidAuthorization is the compensation of an authorization whose
// outcome is unknown. "Nothing found" after every search is the normal end
// when no attempt went through; a search or void that keeps failing is
// returned, so the saga logs it as a failed compensation for an operator.
func (p *purchase) findAndVoidAuthorization(ctx workflow.Context) error {
	var r activities.AuthorizationRecovery
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, p.timing.findAuthorizationOptions()),
		acts.FindAndVoidAuthorization, p.order.ID).Get(ctx, &r)
	if err != nil {
		var e *models.Error
		if errors.As(failures.FromTemporal(err), &e) && e.Code == activities.CodeAuthorizationNotFound {
			p.logger.Info("No authorization found at Stripe; nothing to void")
			return nil
		}
		return err
	}
	if r.Voided {
		p.logger.Warn("Voided an authorization whose answer was lost", "IntentID", r.IntentID)
	}
	// The order ended before the search finished (it runs in the
	// background); once the ending is recorded (the lock), name the intent
	// on it.
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	defer p.lock.Unlock()
	p.intentID = r.IntentID
	p.record(ctx, models.StatusChange{To: p.order.Status, Actor: models.ActorSystem, PaymentIntentID: r.IntentID})
	return nil
}
