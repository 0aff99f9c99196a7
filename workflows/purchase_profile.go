package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/payments"
)

// prepareCardOptions: saving the card is a convenience on the buyer's
// waiting path, so Stripe trouble gives up quickly and the purchase goes on
// without saving.
var prepareCardOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 20 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    500 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
		MaximumAttempts:    4,
	},
}

// paymentSource decides what to authorize: a one-tap purchase uses the saved
// customer and card; a first purchase that saves creates the customer first
// and the authorization saves the card on it (setup_future_usage);
// otherwise the card as given.
func (p *purchase) paymentSource(ctx workflow.Context) (paymentMethod, customer string) {
	if p.in.Customer != "" || !p.in.SaveDetails {
		return p.in.PaymentMethod, p.in.Customer
	}
	var saved activities.SavedCard
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, prepareCardOptions), acts.PrepareSavedCard,
		p.order.ID, p.in.PaymentMethod).Get(ctx, &saved)
	if err != nil {
		p.logger.Warn("Saving the card failed; paying without saving it", "error", err)
		return p.in.PaymentMethod, ""
	}
	p.savedCard = &saved
	// Until the profile is saved, the new customer is ours alone: a declined
	// or abandoned purchase deletes it (and with it the attached card), so no
	// Stripe customer is left with nothing behind it. Histories from before
	// this step replay without it.
	if p.lean || workflow.GetVersion(ctx, discardUnusedCustomerChange, workflow.DefaultVersion, 1) == 1 {
		p.saga.add(savedCardStep, p.discardSavedCustomer)
	}
	return saved.Card.ID, saved.CustomerID
}

// keepSavedCard takes the card as the authorization saved it on the new
// customer: that is the payment method (and its brand and last digits) the
// profile remembers.
func (p *purchase) keepSavedCard(in payments.Intent) {
	if p.savedCard != nil && in.Card != nil {
		p.savedCard.Card = *in.Card
	}
}

// discardUnusedCustomerChange versions the compensation of PrepareSavedCard.
const discardUnusedCustomerChange = "discard-unused-customer"

const savedCardStep = "saved-card"

func (p *purchase) discardSavedCustomer(ctx workflow.Context) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, compensationOptions), acts.DiscardCustomer,
		p.savedCard.CustomerID, payments.IdempotencyKey(p.order.ID, "customer-delete")).Get(ctx, nil)
}

// saveProfile remembers the buyer once the payment is authorized: the card
// is proven good and the buyer already has their answer. A failure costs
// only the convenience and is logged. It gets the local attempts only, not
// writeDurably's durable days of retries: the merchant hears of the order and
// the acceptance clock starts after it, inside the authorization's life.
func (p *purchase) saveProfile(ctx workflow.Context) {
	if p.savedCard == nil {
		return
	}
	// The customer now backs the buyer's profile: later endings (reject,
	// cancel, expiry) must not delete it.
	p.saga.replace(savedCardStep, savedCardStep, func(workflow.Context) error { return nil })
	err := writeOnce(ctx, acts.SaveBuyerProfile, activities.SaveProfileInput{
		OrderID:  p.order.ID,
		BuyerID:  p.order.BuyerID,
		Shipping: p.order.Shipping,
		Email:    p.in.Email,
		Phone:    p.in.Phone,
		Card:     *p.savedCard,
	})
	if err != nil {
		p.logger.Error("Saving the buyer profile failed", "error", err)
	}
}
