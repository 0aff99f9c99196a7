package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/payments"
)

// prepareCardOptions: saving the card is a convenience (before
// changeLeanHistory, on the buyer's waiting path), so Stripe trouble gives up
// quickly and the purchase goes on without saving.
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
// customer and card; a first purchase that saves has the authorization set
// the card up for later payments (setup_future_usage, no customer), and
// saveProfile saves it on a new customer once the buyer has their answer;
// otherwise the card as given. No customer exists before the answer, so a
// declined or abandoned first purchase leaves nothing at Stripe to undo.
//
// Workflows started before changeLeanHistory created the customer first,
// on the buyer's waiting path, and the authorization saved the card on it.
func (p *purchase) paymentSource(ctx workflow.Context) (paymentMethod, customer string) {
	if p.in.Customer != "" || !p.in.SaveDetails {
		return p.in.PaymentMethod, p.in.Customer
	}
	if p.lean {
		p.savedCard = &activities.SavedCard{Card: payments.Card{ID: p.in.PaymentMethod}}
		return p.in.PaymentMethod, ""
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

// keepSavedCard takes the card as the authorization set it up (or saved it
// on the new customer): that is the payment method (and its brand and last
// digits) the profile remembers.
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

// saveCardOptions: the card is saved after the buyer's answer and before
// the merchant hears of the order, inside the authorization's life, so like
// a card change it gives up within half a minute of Stripe trouble and the
// order goes on without a saved profile. An attempt makes up to four Stripe
// calls (the customer, a read of the card on a retry, the attach, the
// customer's deletion when the card is refused).
var saveCardOptions = func() workflow.ActivityOptions {
	o := cardChangeOptions
	o.StartToCloseTimeout = stripeAttempt(4)
	return o
}()

// saveProfile remembers the buyer once the payment is authorized: the card
// is proven good and the buyer already has their answer. A failure costs
// only the convenience and is logged. It gets the local attempts only, not
// writeDurably's durable days of retries: the merchant hears of the order and
// the acceptance clock starts after it, inside the authorization's life.
func (p *purchase) saveProfile(ctx workflow.Context) {
	if p.savedCard == nil {
		return
	}
	if p.lean {
		// The card is saved by a regular activity after the answer, a
		// window in which the buyer or the merchant may act on the order:
		// their handlers wait for the lock until the profile is saved and
		// order.created is on its way (process sends it before it yields),
		// so the merchant always hears of the order before what happens to it.
		if err := p.lock.Lock(ctx); err != nil {
			return
		}
		defer p.lock.Unlock()
		if !p.saveCardOnNewCustomer(ctx) {
			return
		}
	} else {
		// The customer now backs the buyer's profile: later endings
		// (reject, cancel, expiry) must not delete it.
		p.saga.replace(savedCardStep, savedCardStep, func(workflow.Context) error { return nil })
	}
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

// saveCardOnNewCustomer saves the card the authorization set up on a new
// Stripe customer, the first Stripe call after the buyer's answer (a
// regular activity: scheduling it completes the workflow task that carries
// the answer). It runs detached, so a cancellation waits for it and knows
// whether a customer exists. It reports whether the profile can be saved.
func (p *purchase) saveCardOnNewCustomer(ctx workflow.Context) bool {
	dctx := detached(ctx)
	var saved activities.SavedCard
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, saveCardOptions), acts.SaveCardOnNewCustomer,
		p.order.ID, p.savedCard.Card.ID).Get(dctx, &saved)
	if err != nil {
		// Stripe refused the card (and the customer made for it is gone),
		// or did not answer within the attempts (a customer it made may
		// stay, with no personal data on it): either way the order goes on
		// without a profile.
		code := "stripe_unavailable"
		if e := domainError(err); e != nil {
			code = e.Code
		}
		p.logger.Warn("Saving the card after the payment failed; no profile is saved",
			"PaymentMethodID", p.savedCard.Card.ID, "FailureCode", code)
		p.savedCard = nil
		return false
	}
	p.savedCard = &saved
	if ctx.Err() != nil {
		// The workflow is being cancelled: no profile will refer to the
		// customer, so it goes (and the card with it).
		if err := p.discardSavedCustomer(dctx); err != nil {
			p.logger.Error("Deleting the unused Stripe customer failed", "CustomerID", saved.CustomerID, "error", err)
		}
		p.savedCard = nil
		return false
	}
	return true
}
