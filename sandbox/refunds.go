package sandbox

import (
	"net/http"
	"slices"
	"sort"
	"time"
)

// Refund statuses, as API version 2023-10-16 has them.
const (
	refundPending   = "pending"
	refundSucceeded = "succeeded"
	refundFailed    = "failed"
)

type refund struct {
	id            string
	charge        string
	intent        string
	amount        int64
	currency      string
	reason        string
	status        string
	failureReason string
	metadata      map[string]string
	created       time.Time
	// transferReversal is the reversal reverse_transfer made ("" = none).
	transferReversal string
	// settleTo is where SettleRefund moves it when not told ("" = nowhere:
	// the refund is final).
	settleTo string
}

// RefundRecord is a snapshot of a Refund for tests and the control API.
type RefundRecord struct {
	ID            string            `json:"id"`
	PaymentIntent string            `json:"payment_intent"`
	Amount        int64             `json:"amount"`
	Status        string            `json:"status"`
	FailureReason string            `json:"failure_reason,omitempty"`
	Metadata      map[string]string `json:"metadata"`
	CreatedAt     time.Time         `json:"created_at"`
}

var refundReasons = []string{"duplicate", "fraudulent", "requested_by_customer"}

var refundFailureReasons = []string{"expired_or_canceled_card", "lost_or_stolen_card", "unknown"}

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
	if d := s.disputeOf(ch.id); d != nil && d.status != disputeWon {
		return result(0, nil, errorf(http.StatusBadRequest, typeInvalidRequest, "charge_disputed", "",
			"Charge %s has been charged back; cannot issue a refund.", ch.id))
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
		reason: reason, status: refundSucceeded, metadata: applyMetadata(nil, p), created: s.now(),
	}
	if pm, ok := s.paymentMethods[ch.paymentMethod]; ok {
		if b := pm.behavior(); b.refundsStart != "" {
			re.status, re.settleTo = b.refundsStart, b.refundsEnd
		}
	}
	reverse, refundFee, ferr := s.refundConnectFlags(p, ch)
	if ferr != nil {
		return result(0, nil, ferr)
	}
	s.refunds[re.id] = re
	s.reverseForRefund(re, ch, ch.refunded, reverse, refundFee)
	ch.refunded += amount
	s.emit(c, "charge.refunded", pi.id, s.renderCharge(ch))
	s.emit(c, "refund.created", pi.id, s.renderRefund(re))
	return http.StatusOK, s.renderRefund(re, c.expand)
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
	return http.StatusOK, s.renderRefund(re, c.expand)
}

// listRefunds is GET /v1/refunds: newest first, filtered by payment_intent
// or charge, paged with limit and starting_after as Stripe pages lists.
func (s *Server) listRefunds(c *call) (int, any) {
	p := c.params
	if err := p.onlyKnown("payment_intent", "charge", "limit", "starting_after", "ending_before", "created"); err != nil {
		return result(0, nil, err)
	}
	limit, err := p.limit()
	if err != nil {
		return result(0, nil, err)
	}
	if id := p.str("payment_intent"); id != "" {
		if _, ok := s.intents[id]; !ok {
			return result(0, nil, noSuchParam("payment_intent", "payment_intent", id))
		}
	}
	list := s.sortedRefunds(func(re *refund) bool {
		return (p.str("payment_intent") == "" || re.intent == p.str("payment_intent")) &&
			(p.str("charge") == "" || re.charge == p.str("charge"))
	})
	if after := p.str("starting_after"); after != "" {
		i := slices.IndexFunc(list, func(re *refund) bool { return re.id == after })
		if i < 0 {
			return result(0, nil, noSuchParam("refund", "starting_after", after))
		}
		list = list[i+1:]
	}
	more := len(list) > int(limit)
	if more {
		list = list[:limit]
	}
	data := make([]any, 0, len(list))
	for _, re := range list {
		data = append(data, s.renderRefund(re, c.expand))
	}
	return http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": more, "url": "/v1/refunds"}
}

// sortedRefunds lists the refunds keep selects, newest first.
func (s *Server) sortedRefunds(keep func(*refund) bool) []*refund {
	var out []*refund
	for _, re := range s.refunds {
		if keep(re) {
			out = append(out, re)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.After(out[j].created)
		}
		return out[i].id > out[j].id
	})
	return out
}

// SettleRefund moves a refund on, as the card network later does: a pending
// refund to succeeded or failed, a succeeded one to failed. status "" takes
// the card's own course (pm_card_pendingRefund: succeeded,
// pm_card_refundFail: failed). A failed refund gives the money back to the
// charge (it can be refunded again) and carries failureReason ("" =
// lost_or_stolen_card). Each change sends charge.refund.updated and
// refund.updated, the two events API version 2023-10-16 has for it.
func (s *Server) SettleRefund(refundID, status, failureReason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.settleRefund(refundID, status, failureReason)
	if err != nil {
		return err
	}
	return nil
}

func (s *Server) settleRefund(refundID, status, failureReason string) (*refund, *apiError) {
	re, ok := s.refunds[refundID]
	if !ok {
		return nil, noSuch("refund", "", refundID)
	}
	if status == "" {
		status = re.settleTo
	}
	switch {
	case status != refundSucceeded && status != refundFailed:
		return nil, invalid("status", "A refund settles as succeeded or failed, not %q.", status)
	case re.status == refundFailed || re.status == status || re.status == refundSucceeded && status != refundFailed:
		return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "refund_unexpected_state", "",
			"This refund has a status of %s and cannot become %s.", re.status, status)
	}
	if status == refundFailed {
		if failureReason == "" {
			failureReason = "lost_or_stolen_card"
		}
		if !slices.Contains(refundFailureReasons, failureReason) {
			return nil, invalid("failure_reason", "Invalid failure_reason: must be one of %v", refundFailureReasons)
		}
		re.failureReason = failureReason
		s.charges[re.charge].refunded -= re.amount
	}
	re.status, re.settleTo = status, ""
	obj := s.renderRefund(re)
	s.emit(nil, "charge.refund.updated", re.intent, obj)
	s.emit(nil, "refund.updated", re.intent, obj)
	return re, nil
}

// Refunds returns a snapshot of the refunds of an intent ("" = all), newest first.
func (s *Server) Refunds(intentID string) []RefundRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []RefundRecord{}
	for _, re := range s.sortedRefunds(func(re *refund) bool { return intentID == "" || re.intent == intentID }) {
		out = append(out, RefundRecord{ID: re.id, PaymentIntent: re.intent, Amount: re.amount, Status: re.status,
			FailureReason: re.failureReason, Metadata: copyMap(re.metadata), CreatedAt: re.created})
	}
	return out
}

func (s *Server) renderRefund(re *refund, expand ...map[string]bool) map[string]any {
	return map[string]any{
		"id":                       re.id,
		"object":                   "refund",
		"amount":                   re.amount,
		"balance_transaction":      nil,
		"charge":                   re.charge,
		"created":                  re.created.Unix(),
		"currency":                 re.currency,
		"failure_reason":           nullable(re.failureReason),
		"metadata":                 nonNil(re.metadata),
		"payment_intent":           re.intent,
		"reason":                   nullable(re.reason),
		"receipt_number":           nil,
		"source_transfer_reversal": nil,
		"status":                   re.status,
		"transfer_reversal":        s.renderRefundReversal(re, expand),
	}
}
