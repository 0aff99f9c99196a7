package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
)

// disputeReasons are the reasons Stripe gives for a chargeback.
var disputeReasons = []string{"fraudulent", "duplicate", "product_not_received", "product_unacceptable",
	"subscription_canceled", "credit_not_processed", "unrecognized", "general"}

// Dispute opens a chargeback on a captured intent, as the buyer's bank would,
// and sends charge.dispute.created. It returns the dispute's id.
func (s *Server) Dispute(intentID, reason string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.dispute(intentID, reason)
	if err != nil {
		return "", err
	}
	return d["id"].(string), nil
}

func (s *Server) dispute(intentID, reason string) (map[string]any, *apiError) {
	pi, ok := s.intents[intentID]
	if !ok {
		return nil, noSuch("payment_intent", "", intentID)
	}
	ch, ok := s.charges[pi.latestCharge]
	if !ok || !ch.captured {
		return nil, unexpectedState("Only a captured charge can be disputed; this PaymentIntent has a status of %s.", pi.status)
	}
	if reason == "" {
		reason = "fraudulent"
	}
	if !slices.Contains(disputeReasons, reason) {
		return nil, invalid("reason", "Invalid reason: must be one of the dispute reasons Stripe uses.")
	}
	// Disputes carry no metadata of their own: receivers find the order
	// through payment_intent, as they must with Stripe.
	d := map[string]any{
		"id": newID("dp_", 24), "object": "dispute", "amount": ch.amountCaptured - ch.refunded, "currency": ch.currency,
		"charge": ch.id, "payment_intent": pi.id, "reason": reason, "status": "needs_response",
		"created": s.now().Unix(), "livemode": false, "metadata": map[string]any{},
	}
	s.emit(nil, "charge.dispute.created", pi.id, d)
	return d, nil
}

func (s *Server) controlDispute(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeResponse(w, http.StatusBadRequest, invalid("", `Body must be {"reason":"fraudulent"} or empty.`))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.dispute(id, body.Reason)
	if err != nil {
		writeResponse(w, err.status, err)
		return
	}
	writeResponse(w, http.StatusOK, d)
}
