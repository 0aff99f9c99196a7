// Package activities holds the I/O steps of the purchase workflow. They decide
// nothing: every rule lives in models, every decision in the workflow. Each
// method is one business step as operators read it in Temporal UI.
package activities

import (
	"context"
	"log/slog"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
)

// Store is what the activities need of the read model; *store.Store satisfies it.
type Store interface {
	Product(ctx context.Context, id string) (models.Product, error)
	Merchant(ctx context.Context, id string) (models.Merchant, error)
	CreateOpenOrder(ctx context.Context, o models.Order, maxOpenUnpaid int) (models.Order, error)
	Order(ctx context.Context, id string) (models.Order, error)
	ReserveStock(ctx context.Context, orderID, productID string, qty int) error
	ReleaseStock(ctx context.Context, orderID string) error
	ApplyStatusChange(ctx context.Context, c models.StatusChange) (models.Order, error)
}

// Payments is what the activities need of Stripe; *payments.Gateway satisfies it.
type Payments interface {
	Authorize(ctx context.Context, req payments.AuthorizeRequest) (payments.Intent, error)
	Capture(ctx context.Context, orderID, intentID string, attempt int32) (payments.Intent, error)
	Cancel(ctx context.Context, orderID, intentID string, attempt int32) (payments.Intent, error)
	Refund(ctx context.Context, req payments.RefundRequest) (payments.Refund, error)
	Retrieve(ctx context.Context, intentID string) (payments.Intent, error)
}

// Notifier delivers signed webhooks to merchants; *notify.Sender satisfies it.
type Notifier interface {
	Send(ctx context.Context, url, secret string, ev notify.Event) (notify.Delivery, error)
}

// Activities is registered once per worker; its methods are the activities.
// The workflow refers to them through a nil *Activities, so the method names
// are the activity names.
type Activities struct {
	Store    Store
	Payments Payments
	Notifier Notifier
	Logger   *slog.Logger
	// Deliveries keeps the merchant-readable webhook delivery log; nil
	// delivers without logging.
	Deliveries DeliveryLog
	// Cards and Profiles save a buyer's details for one-tap purchases; nil
	// uses Payments and Store when they can (the gateway and store do).
	Cards    SavedCards
	Profiles Profiles
	// Pricing prices purchases and reads quotes; nil uses Store (the
	// store does). Tax computes their tax; nil: each merchant's tax table.
	Pricing Prices
	Tax     models.TaxCalculator
	// MaxOpenUnpaidPerBuyer caps a buyer's orders waiting for payment
	// (pending, requires_action); 0: no cap.
	MaxOpenUnpaidPerBuyer int
	// Connect is the platform fee and refund policy of destination charges.
	Connect Connect
	// Dispatch, when set, is nudged as soon as an event enters the merchant
	// outbox, so the worker's dispatcher sends it without waiting to poll.
	Dispatch *Dispatcher
}

func (a *Activities) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
