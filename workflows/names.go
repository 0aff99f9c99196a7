// Package workflows holds the purchase workflow: pure orchestration of the
// activities, driven by updates from the API and timers.
package workflows

import (
	"time"

	"github.com/buybutton/checkout/models"
)

// Names of the workflow, its updates and its query, as the API and Temporal UI see them.
const (
	// PurchaseWorkflowName is the purchase workflow the API starts. Its
	// history has one shape, the newest, and asks for no version.
	PurchaseWorkflowName = "Purchase"
	// VersionedPurchaseWorkflowName is the purchase workflow as it was
	// started until the store's merchant outbox (2026-12-03): it asks
	// GetVersion which branch each history took (Changes). It runs the
	// orders started then, and any an API replica of that release starts
	// while a deploy rolls, until none is left.
	VersionedPurchaseWorkflowName = "PurchaseWorkflow"

	UpdatePay     = "pay"     // answers once payment authorization settles
	UpdateAccept  = "accept"  // merchant accepts: capture
	UpdateReject  = "reject"  // merchant rejects: void and release
	UpdateShip    = "ship"    // merchant ships: carrier and tracking
	UpdateDeliver = "deliver" // merchant confirms delivery: completes the order
	UpdateCancel  = "cancel"  // buyer cancels until shipped: void or refund, release
	UpdateResolve = "resolve" // operator settles an order that needs attention: retry, or resolved by hand
	UpdateRefund  = "refund"  // merchant refunds part or all of the captured money (RefundInput → RefundResult)

	QueryStatus = "status" // the order view

	// SignalPaymentIntent carries Stripe's word on the order's PaymentIntent
	// (from its webhook) while the buyer completes 3-D Secure.
	SignalPaymentIntent = "stripe-payment-intent"

	// SignalStripeMoney carries Stripe's news of one of the order's refunds
	// or of its dispute (StripeMoneyEvent).
	SignalStripeMoney = "stripe-money"

	// PayUpdateID is the update id of every pay update: a retried
	// update-with-start reaches the same update and gets the same answer.
	PayUpdateID = "pay"
)

// PaymentActionTimeout is how long the buyer has to complete 3-D Secure
// before the authorization is abandoned and the stock released.
const PaymentActionTimeout = 15 * time.Minute

// Webhook event types the workflow sends to merchants.
const (
	EventOrderCreated       = "order.created"        // authorized: the merchant should accept or reject
	EventOrderCancelled     = "order.cancelled"      // the buyer cancelled: do not ship
	EventOrderExpired       = "order.expired"        // the merchant did not accept in time
	EventOrderPaymentFailed = "order.payment_failed" // capture failed after the merchant accepted
	EventOrderDelivered     = "order.delivered"      // the merchant confirmed delivery
	// A refund Stripe had accepted failed: data.refund has its amount and failure_reason.
	EventOrderRefundFailed = "order.refund_failed"
	// The dispute closed: data.dispute has its status (won or lost), amount and reason.
	EventOrderDisputeClosed = "order.dispute_closed"
)

// DefaultAcceptTimeout is how long a merchant has to accept an authorized
// order. Card authorizations lapse after about 7 days, so it must stay below that.
const DefaultAcceptTimeout = 48 * time.Hour

// DefaultShipBy is how long a merchant has to ship an accepted order before
// the buyer is refunded and the order cancelled.
const DefaultShipBy = 7 * 24 * time.Hour

// DefaultAutoCompleteAfter is how long after shipping an order with no
// delivery confirmation completes by itself (delivered), ending its workflow.
const DefaultAutoCompleteAfter = 21 * 24 * time.Hour

// MaxAcceptTimeout keeps the capture safely inside the authorization's life.
const MaxAcceptTimeout = 6 * 24 * time.Hour

// WorkflowID names the workflow of an order.
func WorkflowID(orderID string) string { return "purchase-" + orderID }

// PurchaseInput starts a PurchaseWorkflow. The order id comes from the API,
// never from workflow code.
type PurchaseInput struct {
	OrderID       string         `json:"order_id"`
	BuyerID       string         `json:"buyer_id"`
	ProductID     string         `json:"product_id"`
	Quantity      int            `json:"quantity"`
	Shipping      models.Address `json:"shipping_address"`
	PaymentMethod string         `json:"payment_method"`
	// VariantID, ShippingRate and QuoteID price the order at validation;
	// empty: the product's only variant, the cheapest rate, no quote.
	VariantID    string `json:"variant_id,omitempty"`
	ShippingRate string `json:"shipping_rate,omitempty"`
	QuoteID      string `json:"quote_id,omitempty"`
	// AcceptTimeout bounds the wait for the merchant; zero means DefaultAcceptTimeout.
	AcceptTimeout time.Duration `json:"accept_timeout"`
	// ShipBy bounds the wait for shipping once accepted; zero means DefaultShipBy.
	ShipBy time.Duration `json:"ship_by,omitempty"`
	// AutoCompleteAfter is how long after shipping the order completes
	// without a delivery confirmation; zero means DefaultAutoCompleteAfter.
	AutoCompleteAfter time.Duration `json:"auto_complete_after,omitempty"`
	// PaymentActionTimeout bounds the wait for 3-D Secure; zero means PaymentActionTimeout.
	PaymentActionTimeout time.Duration `json:"payment_action_timeout,omitempty"`
	// SaveDetails asks a first purchase to remember the buyer (Stripe
	// customer, attached card, encrypted profile) for one-tap purchases.
	SaveDetails bool   `json:"save_details,omitempty"`
	Email       string `json:"email,omitempty"` // remembered with the profile, if given
	Phone       string `json:"phone,omitempty"`
	// Customer is the saved buyer's Stripe customer (one-tap purchases):
	// PaymentMethod is then the card attached to it.
	Customer string `json:"customer,omitempty"`
	// Attributes are the search attributes the workflow was started with
	// (nil: none); see OrderAttributes.
	Attributes *OrderAttributes `json:"attributes,omitempty"`
}

// PayResult is the answer of the pay update: what the buyer learns.
type PayResult struct {
	OrderID     string             `json:"order_id"`
	Status      models.OrderStatus `json:"status"` // authorized, payment_failed, sold_out, invalid, requires_action
	Amount      int64              `json:"amount"`
	Currency    string             `json:"currency"`
	FailureCode string             `json:"failure_code,omitempty"`
	Message     string             `json:"message,omitempty"`
	// ClientSecret lets the buyer's client complete 3-D Secure (requires_action only).
	ClientSecret string `json:"client_secret,omitempty"`
	// NextActionType is Stripe's next_action.type, e.g. "use_stripe_sdk" (requires_action only).
	NextActionType string `json:"next_action_type,omitempty"`
}

// Inputs of the merchant's and buyer's updates. Actor is filled by the API
// from the authenticated caller and goes into the audit log.
type (
	AcceptInput struct {
		Actor string `json:"actor"`
	}
	RejectInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	ShipInput struct {
		Actor          string `json:"actor"`
		Carrier        string `json:"carrier"`
		TrackingNumber string `json:"tracking_number"`
		TrackingURL    string `json:"tracking_url,omitempty"`
	}
	DeliverInput struct {
		Actor string `json:"actor"`
	}
	CancelInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	// ResolveInput settles an order in needs_attention: ResolveRetry gives
	// the money back again, ResolveResolved records that an operator did it
	// by other means (Note says how).
	ResolveInput struct {
		Actor  string `json:"actor"`
		Action string `json:"action"`
		Note   string `json:"note,omitempty"`
	}
)

// Actions of ResolveInput.
const (
	ResolveRetry    = "retry"
	ResolveResolved = "resolved"
)

// Every update other than pay answers with the order's new state (models.Order).

// PaymentIntentSignal is the payload of SignalPaymentIntent: the intent and
// its new Stripe status (payments.Intent* constants).
type PaymentIntentSignal struct {
	IntentID string `json:"intent_id"`
	Status   string `json:"status"`
}

// StripeMoneyEvent is Stripe's news of one of an order's refunds or of its
// dispute, as its webhook reported it.
type StripeMoneyEvent struct {
	EventID  string `json:"event_id"`
	Kind     string `json:"kind"`      // MoneyEventRefund or MoneyEventDispute
	ObjectID string `json:"object_id"` // the refund (re_…) or the dispute (dp_…)
	Status   string `json:"status"`    // Stripe's status of the object
	Amount   int64  `json:"amount,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// FailureReason is why Stripe failed a refund.
	FailureReason string `json:"failure_reason,omitempty"`
	// Detail is the line the order's audit trail gets (disputes).
	Detail string `json:"detail,omitempty"`
	// Ours is set for a refund the checkout made (it carries our request tag).
	Ours bool `json:"ours,omitempty"`
}

// Kinds of StripeMoneyEvent.
const (
	MoneyEventRefund  = "refund"
	MoneyEventDispute = "dispute"
)
