package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// idemRetention is how long Stripe keeps an idempotency key.
const idemRetention = 24 * time.Hour

// idemEntry remembers one Idempotency-Key of one API key. While done is
// false the first request is still running.
type idemEntry struct {
	key         string // API key and Idempotency-Key
	idemKey     string
	fingerprint string
	done        bool
	status      int
	body        []byte
	requestID   string
	at          time.Time
}

// claimIdempotency decides what a POST carrying an Idempotency-Key does:
// replay a finished answer, fail (different parameters, or the first request
// still running), or run, holding the returned claim.
func (s *Server) claimIdempotency(c *call) (claim, replay *idemEntry, err *apiError) {
	key := c.apiKey + "\x00" + c.idemKey
	fp := fingerprint(c.r.Method, c.r.URL.Path, c.r.PostForm)
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.idem[key]; ok && now.Sub(e.at) < idemRetention {
		switch {
		case e.fingerprint != fp:
			return nil, nil, errorf(http.StatusBadRequest, typeIdempotency, "", "",
				"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", c.idemKey)
		case !e.done:
			// Stripe answers a concurrent request with the same key at once
			// with a 409 typed invalid_request_error (the parameter mismatch
			// above is the idempotency_error). It is a lock, not a conflict:
			// stripe-go retries 409s itself, and callers should too.
			return nil, nil, errorf(http.StatusConflict, typeInvalidRequest, "idempotency_key_in_use", "",
				"There is currently another in-progress request using this Stripe token (probably this is because you have an idempotency key that's shared by multiple requests). Please try again later.")
		}
		return nil, e, nil
	}
	s.claims++
	if s.claims%1000 == 0 {
		s.pruneIdempotency(now)
	}
	e := &idemEntry{key: key, idemKey: c.idemKey, fingerprint: fp, requestID: c.reqID, at: now}
	s.idem[key] = e
	return e, nil, nil
}

// finishIdempotency stores the answer for replays, server errors included:
// Stripe replays a 500 under its key as faithfully as a 200.
func (s *Server) finishIdempotency(e *idemEntry, status int, body []byte) {
	if e == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.done, e.status, e.body = true, status, body
}

func (s *Server) releaseIdempotency(e *idemEntry) {
	if e == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idem[e.key] == e {
		delete(s.idem, e.key)
	}
}

// pruneIdempotency forgets finished keys past Stripe's retention so a
// long-running sandbox does not grow without bound.
func (s *Server) pruneIdempotency(now time.Time) {
	for k, e := range s.idem {
		if e.done && now.Sub(e.at) >= idemRetention {
			delete(s.idem, k)
		}
	}
}

// ExpireIdempotencyKeys forgets the finished idempotency keys that start with
// prefix ("" = all of them), as Stripe does 24 hours after a key's first use,
// and returns how many it forgot. Keys of requests still running stay. Tests
// use it to meet what a retry meets after a day.
func (s *Server) ExpireIdempotencyKeys(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.idem {
		if e.done && strings.HasPrefix(e.idemKey, prefix) {
			delete(s.idem, k)
			n++
		}
	}
	return n
}
