package models

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
)

// transitions is the order state machine as data: from → allowed targets.
// Every status change in the system is checked against it (CheckTransition).
var transitions = map[OrderStatus][]OrderStatus{
	StatusPending:        {StatusAuthorized, StatusRequiresAction, StatusPaymentFailed, StatusSoldOut, StatusInvalid, StatusCancelled},
	StatusRequiresAction: {StatusAuthorized, StatusPaymentFailed, StatusExpired, StatusCancelled},
	StatusAuthorized:     {StatusAccepted, StatusRejected, StatusExpired, StatusCancelled, StatusPaymentFailed},
	StatusAccepted:       {StatusShipped, StatusCancelled},
	StatusShipped:        {StatusDelivered},
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

// Terminal reports whether no further transition is possible.
func (s OrderStatus) Terminal() bool { return len(transitions[s]) == 0 }

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	switch s {
	case StatusPending, StatusRequiresAction, StatusAuthorized, StatusAccepted, StatusShipped, StatusDelivered,
		StatusPaymentFailed, StatusSoldOut, StatusInvalid, StatusRejected, StatusExpired, StatusCancelled:
		return true
	}
	return false
}
