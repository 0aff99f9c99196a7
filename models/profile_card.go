package models

// CardChange replaces a saved profile's card. OldPaymentMethodID is the card
// the change was decided against: a change is refused if another one replaced
// that card meanwhile, so exactly one change detaches each old card.
type CardChange struct {
	BuyerID            string      `json:"buyer_id"`
	OldPaymentMethodID string      `json:"old_payment_method_id"`
	StripeCustomerID   string      `json:"stripe_customer_id"`
	PaymentMethodID    string      `json:"payment_method_id"`
	Card               CardSummary `json:"card"`
}
