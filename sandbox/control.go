package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// serveControl answers the /_sandbox/ routes tests and the demo widget use to
// steer the sandbox. They need no Stripe key: they are not part of Stripe.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sandbox/"), "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "faults":
		s.controlFaults(w, r)
	case len(parts) == 1 && parts[0] == "payment_intents" && r.Method == http.MethodGet:
		orderID := r.URL.Query().Get("order_id")
		s.mu.Lock()
		recs := s.intentRecords(func(pi *paymentIntent) bool { return orderID == "" || pi.metadata["order_id"] == orderID })
		s.mu.Unlock()
		writeResponse(w, http.StatusOK, recs)
	case len(parts) == 3 && parts[0] == "orders" && parts[2] == "authorizations" && r.Method == http.MethodGet:
		writeResponse(w, http.StatusOK, map[string]any{"order_id": parts[1], "authorizations": s.AuthorizationsFor(parts[1])})
	case len(parts) == 3 && parts[0] == "payment_intents" && parts[2] == "authenticate" && r.Method == http.MethodPost:
		s.controlAuthenticate(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "payment_intents" && parts[2] == "dispute" && r.Method == http.MethodPost:
		s.controlDispute(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "disputes" && (parts[2] == "update" || parts[2] == "close") && r.Method == http.MethodPost:
		s.controlDisputeChange(w, r, parts[1], parts[2])
	case len(parts) == 3 && parts[0] == "refunds" && parts[2] == "settle" && r.Method == http.MethodPost:
		s.controlSettleRefund(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "refunds" && r.Method == http.MethodGet:
		writeResponse(w, http.StatusOK, s.Refunds(r.URL.Query().Get("payment_intent")))
	case len(parts) == 2 && parts[0] == "idempotency_keys" && parts[1] == "expire" && r.Method == http.MethodPost:
		var body struct {
			Prefix string `json:"prefix"`
		}
		if decodeControl(w, r, &body, `Body must be {"prefix":"order:ord_1:"} or empty (every key).`) {
			writeResponse(w, http.StatusOK, map[string]int{"expired": s.ExpireIdempotencyKeys(body.Prefix)})
		}
	case len(parts) == 1 && parts[0] == "transfers" && r.Method == http.MethodGet:
		writeResponse(w, http.StatusOK, s.Transfers(r.URL.Query().Get("payment_intent")))
	case len(parts) == 1 && parts[0] == "accounts" && r.Method == http.MethodGet:
		writeResponse(w, http.StatusOK, s.Accounts())
	case len(parts) == 2 && parts[0] == "accounts" && r.Method == http.MethodPost:
		s.controlAccountState(w, r, parts[1])
	case len(parts) == 3 && parts[0] == "connect" && parts[1] == "onboarding" && r.Method == http.MethodGet:
		s.followLink(w, r, parts[2])
	case len(parts) == 1 && parts[0] == "events" && r.Method == http.MethodGet:
		s.mu.Lock()
		list := make([]json.RawMessage, 0, len(s.events))
		for _, ev := range s.events {
			list = append(list, ev.payload)
		}
		s.mu.Unlock()
		writeResponse(w, http.StatusOK, list)
	default:
		writeResponse(w, http.StatusNotFound, unrecognizedURL(r))
	}
}

func (s *Server) controlFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var f Faults
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			writeResponse(w, http.StatusBadRequest, invalid("", "Faults must be JSON like {\"fail_next\":1,\"latency_ms\":200}: %v", err))
			return
		}
		if f.ErrorRate < 0 || f.ErrorRate > 1 || f.Latency < 0 || f.FailNext < 0 || f.FailAfterNext < 0 || f.DropNext < 0 ||
			f.FailCachedNext < 0 || f.FailCachedAfterNext < 0 {
			writeResponse(w, http.StatusBadRequest, invalid("", "error_rate must be within 0..1 and counts and latency not negative"))
			return
		}
		s.SetFaults(f)
	case http.MethodDelete:
		s.SetFaults(Faults{})
	default:
		writeResponse(w, http.StatusNotFound, unrecognizedURL(r))
		return
	}
	writeResponse(w, http.StatusOK, s.Faults())
}

func (s *Server) controlAuthenticate(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Outcome string `json:"outcome"`
		// ClientSecret, when given (the Stripe.js stand-in sends it), must
		// be the intent's: a page can settle only the payment it was handed.
		ClientSecret string `json:"client_secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || (body.Outcome != "succeed" && body.Outcome != "fail") {
		writeResponse(w, http.StatusBadRequest, invalid("outcome", `Body must be {"outcome":"succeed"} or {"outcome":"fail"}.`))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if known, ok := s.intents[id]; ok && body.ClientSecret != "" && body.ClientSecret != known.clientSecret {
		writeResponse(w, http.StatusBadRequest, invalid("client_secret", "The client_secret does not match this PaymentIntent."))
		return
	}
	pi, err := s.authenticate(id, body.Outcome == "succeed")
	if err != nil {
		writeResponse(w, err.status, err)
		return
	}
	writeResponse(w, http.StatusOK, s.renderIntent(pi, nil))
}

func (s *Server) controlSettleRefund(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Status        string `json:"status"`
		FailureReason string `json:"failure_reason"`
	}
	if !decodeControl(w, r, &body, `Body must be {"status":"succeeded"}, {"status":"failed","failure_reason":"lost_or_stolen_card"} or empty (the card's own course).`) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	re, err := s.settleRefund(id, body.Status, body.FailureReason)
	if err != nil {
		writeResponse(w, err.status, err)
		return
	}
	writeResponse(w, http.StatusOK, s.renderRefund(re))
}
