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
