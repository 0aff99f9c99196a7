package sandbox

import (
	"net/http"
	"time"
)

// charge is the attempt to move money behind a PaymentIntent. Stripe shows
// the latest one as the intent's latest_charge, and refunds hang off it.
type charge struct {
	id             string
	intent         string
	paymentMethod  string
	customer       string
	amount         int64
	currency       string
	captured       bool
	amountCaptured int64
	// released is money authorized but never captured (partial capture or
	// cancel); Stripe counts it in amount_refunded.
	released       int64
	refunded       int64 // sum of Refund objects
	failureCode    string
	failureMessage string
	declineCode    string
	created        time.Time
	// transfer and applicationFee are a destination charge's, from capture.
	transfer             string
	applicationFee       string
	applicationFeeAmount int64
}

func (ch *charge) failed() bool { return ch.failureCode != "" }

// refundable is what a Refund may still return.
func (ch *charge) refundable() int64 { return ch.amountCaptured - ch.refunded }

func (s *Server) newCharge(pi *paymentIntent, pm *paymentMethod) *charge {
	ch := &charge{
		id: newID("ch_", 24), intent: pi.id, paymentMethod: pm.id, customer: pi.customer,
		amount: pi.amount, currency: pi.currency, created: s.now(),
	}
	s.charges[ch.id] = ch
	return ch
}

func (s *Server) getCharge(c *call) (int, any) {
	ch, ok := s.charges[c.pathID]
	if !ok {
		return result(0, nil, noSuch("charge", "", c.pathID))
	}
	return http.StatusOK, s.renderCharge(ch)
}

func (s *Server) renderCharge(ch *charge) map[string]any {
	status, outcome := "succeeded", map[string]any{
		"network_status": "approved_by_network", "reason": nil, "risk_level": "normal", "risk_score": 20,
		"seller_message": "Payment complete.", "type": "authorized",
	}
	if ch.failed() {
		status = "failed"
		outcome = map[string]any{
			"network_status": "declined_by_network", "reason": nullable(ch.declineCode), "risk_level": "normal", "risk_score": 20,
			"seller_message": "The bank did not return any further details with this decline.", "type": "issuer_declined",
		}
	}
	var pmDetails any
	if pm, ok := s.paymentMethods[ch.paymentMethod]; ok {
		pmDetails = map[string]any{"type": "card", "card": s.renderCard(pm, cardBrand(pm.number))}
	}
	amountRefunded := ch.released + ch.refunded
	return map[string]any{
		"id":                     ch.id,
		"object":                 "charge",
		"amount":                 ch.amount,
		"amount_captured":        ch.amountCaptured,
		"amount_refunded":        amountRefunded,
		"balance_transaction":    nil,
		"captured":               ch.captured,
		"created":                ch.created.Unix(),
		"currency":               ch.currency,
		"customer":               nullable(ch.customer),
		"disputed":               s.disputeOf(ch.id) != nil,
		"failure_code":           nullable(ch.failureCode),
		"failure_message":        nullable(ch.failureMessage),
		"livemode":               false,
		"metadata":               map[string]string{},
		"outcome":                outcome,
		"paid":                   !ch.failed(),
		"payment_intent":         ch.intent,
		"payment_method":         ch.paymentMethod,
		"payment_method_details": pmDetails,
		"refunded":               !ch.failed() && amountRefunded >= ch.amount,
		"status":                 status,
		"transfer":               nullable(ch.transfer),
		"application_fee":        nullable(ch.applicationFee),
		"application_fee_amount": ch.applicationFeeAmount,
		"destination":            nullable(s.intents[ch.intent].destination),
		"on_behalf_of":           nullable(s.intents[ch.intent].onBehalfOf),
	}
}
