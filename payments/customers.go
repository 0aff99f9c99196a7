package payments

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// CustomerRequest describes a buyer who chose to be remembered.
type CustomerRequest struct {
	Name  string
	Email string
	Phone string
}

// Card is what a saved card may show the buyer: never the full number.
// ID is the saved payment method to charge or detach later; it differs from
// the attached id when that was a test shortcut such as pm_card_visa.
type Card struct {
	ID       string `json:"id"`
	Brand    string `json:"brand"`
	Last4    string `json:"last4"`
	ExpMonth int64  `json:"exp_month"`
	ExpYear  int64  `json:"exp_year"`
}

// CreateCustomer makes a Stripe customer for the buyer of orderID. One order
// creates at most one customer, however often it is retried.
func (g *Gateway) CreateCustomer(ctx context.Context, orderID string, c CustomerRequest) (string, error) {
	if orderID == "" {
		return "", models.Invalid("invalid_order", "order id is required")
	}
	params := &stripe.CustomerParams{}
	if c.Name != "" {
		params.Name = stripe.String(c.Name)
	}
	if c.Email != "" {
		params.Email = stripe.String(c.Email)
	}
	if c.Phone != "" {
		params.Phone = stripe.String(c.Phone)
	}
	params.AddMetadata(MetadataOrderID, orderID)
	params.AddMetadata(MetadataOperation, "customer")
	params.IdempotencyKey = stripe.String(IdempotencyKey(orderID, "customer"))
	params.Context = ctx
	cus, err := g.sc.Customers.New(params)
	if err != nil {
		return "", classify(err)
	}
	return cus.ID, nil
}

// DetachPaymentMethod forgets a saved card. It is not tied to an order, so
// the caller names the idempotency key (e.g. the buyer's request id).
func (g *Gateway) DetachPaymentMethod(ctx context.Context, pmID string, key string) error {
	if pmID == "" || key == "" {
		return models.Invalid("invalid_detach", "payment method and idempotency key are required")
	}
	params := &stripe.PaymentMethodDetachParams{}
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	_, err := g.sc.PaymentMethods.Detach(pmID, params)
	return classify(err)
}

// SaveOrderCard saves the card an order's authorization set up for later
// use (SaveCard with no Customer) on a new Stripe customer, with no
// personal data on it. Stripe lets a payment method confirmed with
// setup_future_usage and no customer be attached to one once the payment
// went through; one used without setup_future_usage, or attached elsewhere
// meanwhile, is refused.
//
// attempt is the caller's try (from 1). The customer is created under the
// order's key, so every try finds the same one. The attach is retrieve-then-
// act like Authorize: a try after the first reads the payment method and
// takes an attach an earlier try made as done, and otherwise attaches under
// its own attempt's key. A card Stripe refuses for good leaves no customer
// behind: the new one is deleted before the refusal is returned.
func (g *Gateway) SaveOrderCard(ctx context.Context, orderID, pmID string, attempt int32) (string, Card, error) {
	if orderID == "" || pmID == "" {
		return "", Card{}, models.Invalid("invalid_saved_card", "order and payment method are required")
	}
	cus, err := g.CreateCustomer(ctx, orderID, CustomerRequest{})
	if err != nil {
		return "", Card{}, err
	}
	if attempt > 1 {
		params := &stripe.PaymentMethodParams{}
		params.Context = ctx
		pm, err := g.sc.PaymentMethods.Get(pmID, params)
		if err != nil && retryable(classify(err)) {
			return "", Card{}, classify(err)
		}
		if err == nil && pm.Customer != nil && pm.Customer.ID == cus {
			return cus, cardOf(pm), nil
		}
	}
	card, err := g.AttachPaymentMethodWithKey(ctx, pmID, cus, AttemptKey(orderID, "attach", attempt))
	switch {
	case err == nil:
		return cus, card, nil
	case retryable(err):
		return "", Card{}, err // the customer waits for the next try
	}
	if derr := g.DeleteCustomer(ctx, cus, IdempotencyKey(orderID, "customer-delete")); derr != nil && retryable(derr) {
		return "", Card{}, derr
	}
	return "", Card{}, err
}
