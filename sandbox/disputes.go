package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// disputeReasons are the reasons Stripe gives for a chargeback.
var disputeReasons = []string{"fraudulent", "duplicate", "product_not_received", "product_unacceptable",
	"subscription_canceled", "credit_not_processed", "unrecognized", "general"}

// Dispute statuses the sandbox moves through.
const (
	disputeNeedsResponse = "needs_response"
	disputeUnderReview   = "under_review"
	disputeWon           = "won"
	disputeLost          = "lost"
)

type dispute struct {
	id      string
	charge  string
	intent  string
	amount  int64
	reason  string
	status  string
	created time.Time
}

func (d *dispute) closed() bool { return d.status == disputeWon || d.status == disputeLost }

// disputeOf is the charge's dispute, or nil; the caller holds mu.
func (s *Server) disputeOf(chargeID string) *dispute {
	for _, d := range s.disputes {
		if d.charge == chargeID {
			return d
		}
	}
	return nil
}

// Dispute opens a chargeback on a captured intent, as the buyer's bank would,
// and sends charge.dispute.created then charge.dispute.funds_withdrawn. It
// returns the dispute's id. While it is open, or once lost, the charge
// cannot be refunded (charge_disputed).
func (s *Server) Dispute(intentID, reason string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.dispute(intentID, reason)
	if err != nil {
		return "", err
	}
	return d.id, nil
}

func (s *Server) dispute(intentID, reason string) (*dispute, *apiError) {
	pi, ok := s.intents[intentID]
	if !ok {
		return nil, noSuch("payment_intent", "", intentID)
	}
	ch, ok := s.charges[pi.latestCharge]
	if !ok || !ch.captured {
		return nil, unexpectedState("Only a captured charge can be disputed; this PaymentIntent has a status of %s.", pi.status)
	}
	if s.disputeOf(ch.id) != nil {
		return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "charge_disputed", "",
			"Charge %s has already been disputed.", ch.id)
	}
	if reason == "" {
		reason = "fraudulent"
	}
	if !slices.Contains(disputeReasons, reason) {
		return nil, invalid("reason", "Invalid reason: must be one of the dispute reasons Stripe uses.")
	}
	d := &dispute{id: newID("dp_", 24), charge: ch.id, intent: pi.id, amount: ch.amountCaptured - ch.refunded,
		reason: reason, status: disputeNeedsResponse, created: s.now()}
	s.disputes[d.id] = d
	s.emit(nil, "charge.dispute.created", pi.id, s.renderDispute(d))
	s.emit(nil, "charge.dispute.funds_withdrawn", pi.id, s.renderDispute(d))
	return d, nil
}

// UpdateDispute moves an open dispute to another open status (the merchant
// submitted evidence: under_review) and sends charge.dispute.updated.
func (s *Server) UpdateDispute(disputeID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.updateDispute(disputeID, status); err != nil {
		return err
	}
	return nil
}

func (s *Server) updateDispute(disputeID, status string) (*dispute, *apiError) {
	d, err := s.openDispute(disputeID)
	if err != nil {
		return nil, err
	}
	if status != disputeNeedsResponse && status != disputeUnderReview {
		return nil, invalid("status", "An open dispute is needs_response or under_review, not %q; close it to decide it.", status)
	}
	d.status = status
	s.emit(nil, "charge.dispute.updated", d.intent, s.renderDispute(d))
	return d, nil
}

// CloseDispute decides a dispute, as the card network does: won gives the
// money back to the merchant (charge.dispute.funds_reinstated) and lets the
// charge be refunded again; lost keeps it with the buyer. Either way
// charge.dispute.closed is sent.
func (s *Server) CloseDispute(disputeID string, won bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.closeDispute(disputeID, won); err != nil {
		return err
	}
	return nil
}

func (s *Server) closeDispute(disputeID string, won bool) (*dispute, *apiError) {
	d, err := s.openDispute(disputeID)
	if err != nil {
		return nil, err
	}
	d.status = disputeLost
	if won {
		d.status = disputeWon
	}
	s.emit(nil, "charge.dispute.closed", d.intent, s.renderDispute(d))
	if won {
		s.emit(nil, "charge.dispute.funds_reinstated", d.intent, s.renderDispute(d))
	}
	return d, nil
}

func (s *Server) openDispute(id string) (*dispute, *apiError) {
	d, ok := s.disputes[id]
	if !ok {
		return nil, noSuch("dispute", "", id)
	}
	if d.closed() {
		return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "dispute_already_closed", "",
			"This dispute is already closed (%s).", d.status)
	}
	return d, nil
}

func (s *Server) getDispute(c *call) (int, any) {
	d, ok := s.disputes[c.pathID]
	if !ok {
		return result(0, nil, noSuch("dispute", "", c.pathID))
	}
	return http.StatusOK, s.renderDispute(d)
}

// renderDispute carries no metadata of the order: receivers find the order
// through payment_intent, as they must with Stripe.
func (s *Server) renderDispute(d *dispute) map[string]any {
	return map[string]any{
		"id": d.id, "object": "dispute", "amount": d.amount, "currency": s.charges[d.charge].currency,
		"charge": d.charge, "payment_intent": d.intent, "reason": d.reason, "status": d.status,
		"is_charge_refundable": d.status == disputeWon, "created": d.created.Unix(), "livemode": false,
		"metadata": map[string]any{},
	}
}

func (s *Server) controlDispute(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeControl(w, r, &body, `Body must be {"reason":"fraudulent"} or empty.`) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.dispute(id, body.Reason)
	if err != nil {
		writeResponse(w, err.status, err)
		return
	}
	writeResponse(w, http.StatusOK, s.renderDispute(d))
}

// controlDisputeChange serves /_sandbox/disputes/{id}/update
// ({"status":"under_review"}) and /close ({"outcome":"won"|"lost"}).
func (s *Server) controlDisputeChange(w http.ResponseWriter, r *http.Request, id, action string) {
	var body struct {
		Status  string `json:"status"`
		Outcome string `json:"outcome"`
	}
	if !decodeControl(w, r, &body, `Body must be {"status":"under_review"} (update) or {"outcome":"won"|"lost"} (close).`) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *dispute
	var err *apiError
	switch {
	case action == "update":
		d, err = s.updateDispute(id, body.Status)
	case body.Outcome == disputeWon || body.Outcome == disputeLost:
		d, err = s.closeDispute(id, body.Outcome == disputeWon)
	default:
		err = invalid("outcome", `Body must be {"outcome":"won"} or {"outcome":"lost"}.`)
	}
	if err != nil {
		writeResponse(w, err.status, err)
		return
	}
	writeResponse(w, http.StatusOK, s.renderDispute(d))
}

// decodeControl reads an optional JSON body of a control route; false means
// it answered 400 already.
func decodeControl(w http.ResponseWriter, r *http.Request, v any, usage string) bool {
	if r.ContentLength == 0 {
		return true
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeResponse(w, http.StatusBadRequest, invalid("", "%s", usage))
		return false
	}
	return true
}
