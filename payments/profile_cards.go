package payments

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// The calls below serve saved-card changes that belong to no order (a buyer
// replacing their card) and the cleanup of customers an order created: the
// caller names the idempotency key, derived from its own request.

// CreateCustomerWithKey makes a Stripe customer with no personal data on it;
// ref (a profile or order id) goes into its metadata so operators can trace it.
func (g *Gateway) CreateCustomerWithKey(ctx context.Context, ref, key string) (string, error) {
	if ref == "" || key == "" {
		return "", models.Invalid("invalid_customer", "reference and idempotency key are required")
	}
	params := &stripe.CustomerParams{}
	params.AddMetadata("ref", ref)
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	cus, err := g.sc.Customers.New(params)
	if err != nil {
		return "", classify(err)
	}
	return cus.ID, nil
}

// AttachPaymentMethodWithKey saves pmID on the customer, like
// AttachPaymentMethod, under the caller's idempotency key.
func (g *Gateway) AttachPaymentMethodWithKey(ctx context.Context, pmID, customerID, key string) (Card, error) {
	if pmID == "" || customerID == "" || key == "" {
		return Card{}, models.Invalid("invalid_attach", "payment method, customer and idempotency key are required")
	}
	params := &stripe.PaymentMethodAttachParams{Customer: stripe.String(customerID)}
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	pm, err := g.sc.PaymentMethods.Attach(pmID, params)
	if err != nil {
		return Card{}, classify(err)
	}
	return cardOf(pm), nil
}

// cardOf is what a saved card may show of pm.
func cardOf(pm *stripe.PaymentMethod) Card {
	c := Card{ID: pm.ID}
	if pm.Card != nil {
		c.Brand, c.Last4 = string(pm.Card.Brand), pm.Card.Last4
		c.ExpMonth, c.ExpYear = pm.Card.ExpMonth, pm.Card.ExpYear
	}
	return c
}

// DeleteCustomer removes a customer nobody will use; Stripe detaches its
// payment methods with it. A delete is idempotent by nature (a retry of one
// that went through answers resource_missing, which the caller treats as
// done); the key is sent all the same so every Stripe call carries one.
func (g *Gateway) DeleteCustomer(ctx context.Context, customerID, key string) error {
	if customerID == "" || key == "" {
		return models.Invalid("invalid_customer", "customer and idempotency key are required")
	}
	params := &stripe.CustomerParams{}
	params.IdempotencyKey = stripe.String(key)
	params.Context = ctx
	_, err := g.sc.Customers.Del(customerID, params)
	return classify(err)
}
