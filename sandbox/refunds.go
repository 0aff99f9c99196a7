package sandbox

import (
	"net/http"
	"slices"
	"time"
)

type refund struct {
	id       string
	charge   string
	intent   string
	amount   int64
	currency string
	reason   string
	metadata map[string]string
	created  time.Time
}

var refundReasons = []string{"duplicate", "fraudulent", "requested_by_customer"}

func (s *Server) createRefund(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("payment_intent", "charge", "amount", "reason", "metadata", "currency", "customer",
		"instructions_email", "origin", "refund_application_fee", "reverse_transfer"); err != nil {
		return result(0, nil, err)
	}
	pi, ch, err := s.refundTarget(p)
	if err != nil {
		return result(0, nil, err)
	}
	reason := p.str("reason")
	if reason != "" && !slices.Contains(refundReasons, reason) {
		return result(0, nil, invalid("reason", "Invalid reason: must be one of duplicate, fraudulent or requested_by_customer"))
	}
	amount, given, err := p.int64("amount")
	if err != nil {
		return result(0, nil, err)
	}
	left := ch.refundable()
	switch {
	case left <= 0:
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "charge_already_refunded", "",
			"Charge %s has already been refunded.", ch.id))
	case !given:
		amount = left
	case amount < 1:
		return result(0, nil, invalid("amount", "This value must be greater than or equal to 1."))
	case amount > left:
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "amount_too_large", "amount",
			"Refund amount (%d %s) is greater than unrefunded amount on charge (%d %s)", amount, ch.currency, left, ch.currency))
	}
	re := &refund{
		id: newID("re_", 24), charge: ch.id, intent: pi.id, amount: amount, currency: ch.currency,
		reason: reason, metadata: applyMetadata(nil, p), created: s.now(),
	}
	s.refunds[re.id] = re
	ch.refunded += amount
	s.emit(c, "charge.refunded", pi.id, s.renderCharge(ch))
	return http.StatusOK, s.renderRefund(re)
}

// refundTarget finds the captured charge a refund returns money from.
func (s *Server) refundTarget(p params) (*paymentIntent, *charge, *apiError) {
	var pi *paymentIntent
	switch {
	case p.str("payment_intent") != "":
		found, ok := s.intents[p.str("payment_intent")]
		if !ok {
			return nil, nil, noSuchParam("payment_intent", "payment_intent", p.str("payment_intent"))
		}
		pi = found
	case p.str("charge") != "":
		ch, ok := s.charges[p.str("charge")]
		if !ok {
			return nil, nil, noSuchParam("charge", "charge", p.str("charge"))
		}
		pi = s.intents[ch.intent]
	default:
		return nil, nil, invalid("", "One of the following params should be provided for this request: payment_intent or charge.")
	}
	if pi.status != statusSucceeded {
		return nil, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "charge_not_refundable", "payment_intent",
			"This PaymentIntent (%s) does not have a successful charge to refund; it has a status of %s.", pi.id, pi.status)
	}
	return pi, s.charges[pi.latestCharge], nil
}

func (s *Server) getRefund(c *call) (int, any) {
	re, ok := s.refunds[c.pathID]
	if !ok {
		return result(0, nil, noSuch("refund", "", c.pathID))
	}
	return http.StatusOK, s.renderRefund(re)
}

func (s *Server) renderRefund(re *refund) map[string]any {
	return map[string]any{
		"id":                       re.id,
		"object":                   "refund",
		"amount":                   re.amount,
		"balance_transaction":      nil,
		"charge":                   re.charge,
		"created":                  re.created.Unix(),
		"currency":                 re.currency,
		"metadata":                 nonNil(re.metadata),
		"payment_intent":           re.intent,
		"reason":                   nullable(re.reason),
		"receipt_number":           nil,
		"source_transfer_reversal": nil,
		"status":                   "succeeded",
		"transfer_reversal":        nil,
	}
}
