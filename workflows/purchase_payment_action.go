package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// retrieveOptions: reading the intent is cheap and only decides sooner what
// the next webhook or the deadline would decide anyway, so it gives up fast.
var retrieveOptions = workflow.ActivityOptions{
	StartToCloseTimeout: stripeAttempt(1),
	HeartbeatTimeout:    attemptHeartbeat,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    3,
	},
}

// awaitPaymentAction waits, at most the payment action timeout, for Stripe to
// settle the intent after 3-D Secure (or processing). Each webhook relayed as
// a signal makes the workflow read the intent from Stripe and decide on what
// it reads: webhooks arrive late, twice or out of order, the intent does
// not. At the deadline it reads once more, so a lost webhook does not lose a
// completed authentication; an intent still unsettled is cancelled and the
// stock released.
func (p *purchase) awaitPaymentAction(ctx workflow.Context) error {
	deadline := workflow.Now(ctx).Add(p.paymentActionTimeout())
	for {
		timedOut := true
		if left := deadline.Sub(workflow.Now(ctx)); left > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return p.nudged() || !p.awaitingPayment() })
			if err != nil {
				return err
			}
			timedOut = !ok
		}
		if err := p.lock.Lock(ctx); err != nil {
			return err
		}
		if !p.awaitingPayment() {
			p.lock.Unlock()
			return nil // the buyer cancelled meanwhile
		}
		p.intentNudges = nil
		dctx := detached(ctx)
		settled := p.decidePayment(dctx, p.readIntent(dctx), timedOut)
		p.lock.Unlock()
		if settled {
			return nil
		}
	}
}

// nudged reports whether a webhook named the order's intent since the last read.
func (p *purchase) nudged() bool {
	for _, id := range p.intentNudges {
		if id == p.intentID {
			return true
		}
	}
	return false
}

// readIntent returns the intent's status at Stripe, "" when it cannot be read.
func (p *purchase) readIntent(ctx workflow.Context) string {
	var in payments.Intent
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, retrieveOptions), acts.RetrievePaymentIntent,
		p.intentID).Get(ctx, &in)
	if err != nil {
		p.logger.Warn("Reading the payment intent failed", "error", err)
		return ""
	}
	return in.Status
}

// decidePayment acts on the intent's status; false means keep waiting.
func (p *purchase) decidePayment(ctx workflow.Context, status string, timedOut bool) bool {
	switch {
	case status == payments.IntentRequiresCapture:
		p.record(ctx, models.StatusChange{To: models.StatusAuthorized, Actor: models.ActorSystem, PaymentIntentID: p.intentID})
		p.answerPay("")
	case status == payments.IntentRequiresPaymentMethod || status == payments.IntentCanceled:
		p.end(ctx, models.StatusPaymentFailed, models.ActorSystem, "authentication_failed", "the card was not authorized")
	case !timedOut:
		return false
	case p.order.Status == models.StatusRequiresAction:
		p.end(ctx, models.StatusExpired, models.ActorSystem, "authentication_timeout", "3-D Secure was not completed in time")
	default:
		p.end(ctx, models.StatusPaymentFailed, models.ActorSystem, "payment_timeout", "the payment did not complete in time")
	}
	return true
}

func (p *purchase) paymentActionTimeout() time.Duration {
	if t := p.in.PaymentActionTimeout; t > 0 {
		return t
	}
	return PaymentActionTimeout
}
