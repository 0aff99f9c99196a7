package models

import "slices"

// OrderStatus is where an order is in its life.
type OrderStatus string

const (
	StatusPending        OrderStatus = "pending"         // created; validating, reserving, authorizing
	StatusRequiresAction OrderStatus = "requires_action" // waiting for the buyer's 3-D Secure
	StatusAuthorized     OrderStatus = "authorized"      // money held; waiting for the merchant
	StatusAccepted       OrderStatus = "accepted"        // merchant accepted; money captured
	StatusShipped        OrderStatus = "shipped"
	StatusDelivered      OrderStatus = "delivered" // terminal: completed
	StatusPaymentFailed  OrderStatus = "payment_failed"
	StatusSoldOut        OrderStatus = "sold_out"
	StatusInvalid        OrderStatus = "invalid"
	StatusRejected       OrderStatus = "rejected" // merchant refused it
	StatusExpired        OrderStatus = "expired"  // nobody acted before a deadline
	StatusCancelled      OrderStatus = "cancelled"
	// StatusNeedsAttention: the order ended (cancelled, rejected, expired or
	// payment_failed) but giving the money back failed for good; an operator
	// retries or resolves it, and it returns to the status it ended in.
	StatusNeedsAttention OrderStatus = "needs_attention"
)

// endings are the statuses whose giving-back can fail and so lead to
// needs_attention.
var endings = []OrderStatus{StatusPaymentFailed, StatusRejected, StatusExpired, StatusCancelled}

// transitions is the order state machine as data: from → allowed targets.
// Every status change in the system is checked against it (CheckTransition).
var transitions = map[OrderStatus][]OrderStatus{
	StatusPending:        {StatusAuthorized, StatusRequiresAction, StatusPaymentFailed, StatusSoldOut, StatusInvalid, StatusCancelled},
	StatusRequiresAction: {StatusAuthorized, StatusPaymentFailed, StatusExpired, StatusCancelled},
	StatusAuthorized:     {StatusAccepted, StatusRejected, StatusExpired, StatusCancelled, StatusPaymentFailed},
	StatusAccepted:       {StatusShipped, StatusCancelled},
	StatusShipped:        {StatusDelivered},
	StatusPaymentFailed:  {StatusNeedsAttention},
	StatusRejected:       {StatusNeedsAttention},
	StatusExpired:        {StatusNeedsAttention},
	StatusCancelled:      {StatusNeedsAttention},
	StatusNeedsAttention: endings,
}

// CanTransition reports whether an order may go from one status to another.
func CanTransition(from, to OrderStatus) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// CheckTransition is CanTransition as a domain error (conflict).
func CheckTransition(from, to OrderStatus) error {
	if !CanTransition(from, to) {
		return Conflict("invalid_transition", "order is %s and cannot become %s", from, to)
	}
	return nil
}

// Terminal reports whether the order's outcome is settled: no buyer or
// merchant action can change it. An ending may still turn needs_attention
// (and back) when its money could not be given back; needs_attention itself
// is not terminal, since an operator must act.
func (s OrderStatus) Terminal() bool {
	switch s {
	case StatusDelivered, StatusSoldOut, StatusInvalid:
		return true
	}
	return slices.Contains(endings, s)
}

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	switch s {
	case StatusPending, StatusRequiresAction, StatusAuthorized, StatusAccepted, StatusShipped, StatusDelivered,
		StatusPaymentFailed, StatusSoldOut, StatusInvalid, StatusRejected, StatusExpired, StatusCancelled,
		StatusNeedsAttention:
		return true
	}
	return false
}
