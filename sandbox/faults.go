package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults make the sandbox misbehave like a troubled Stripe, so retries,
// timeouts and reconciliation can be tested. The counters are consumed one
// request at a time.
type Faults struct {
	ErrorRate float64       // 0..1: share of /v1 calls answered 500 without doing anything
	Latency   time.Duration // added to every /v1 call
	FailNext  int           // next N /v1 POSTs answer 500 without doing anything
	// FailAfterNext: the next N /v1 POSTs do the work, then the answer is
	// lost on the way (the client sees a 500). The real answer is what the
	// Idempotency-Key keeps, so a retry under the same key replays it.
	FailAfterNext int
	// FailCachedNext: the next N /v1 POSTs that carry an Idempotency-Key
	// fail with a 500 after execution began, having done nothing; Stripe
	// keeps that 500 under the key and replays it for 24 hours ("including
	// 500 errors"), so only a new key (or the key's pruning) can try again.
	FailCachedNext int
	// FailCachedAfterNext is FailCachedNext with the work done: the object
	// changed, yet the key keeps answering the 500.
	FailCachedAfterNext int
	DropNext            int // next N /v1 requests: the connection is closed without an answer
	// Only, when set, limits the faults above to requests on this exact path
	// (e.g. "/v1/payment_intents", the create): a test can lose authorize
	// answers while searches and cancels still work.
	Only string
	// SearchLag hides objects younger than this from search, as Stripe's
	// eventually consistent search index does (up to about a minute).
	SearchLag time.Duration
}

// faultsJSON is the wire form of Faults on /_sandbox/faults.
type faultsJSON struct {
	ErrorRate     float64 `json:"error_rate"`
	LatencyMS     int64   `json:"latency_ms"`
	FailNext      int     `json:"fail_next"`
	FailAfterNext int     `json:"fail_after_next"`
	DropNext      int     `json:"drop_next"`
	Only          string  `json:"only,omitempty"`
	SearchLagMS   int64   `json:"search_lag_ms,omitempty"`

	FailCachedNext      int `json:"fail_cached_next,omitempty"`
	FailCachedAfterNext int `json:"fail_cached_after_next,omitempty"`
}

// MarshalJSON writes the latency and search lag in milliseconds.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{f.ErrorRate, f.Latency.Milliseconds(), f.FailNext, f.FailAfterNext, f.DropNext,
		f.Only, f.SearchLag.Milliseconds(), f.FailCachedNext, f.FailCachedAfterNext})
}

// UnmarshalJSON reads the latency and search lag in milliseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = Faults{
		ErrorRate: w.ErrorRate, Latency: time.Duration(w.LatencyMS) * time.Millisecond,
		FailNext: w.FailNext, FailAfterNext: w.FailAfterNext, DropNext: w.DropNext,
		FailCachedNext: w.FailCachedNext, FailCachedAfterNext: w.FailCachedAfterNext,
		Only: w.Only, SearchLag: time.Duration(w.SearchLagMS) * time.Millisecond,
	}
	return nil
}

type faultState struct {
	mu sync.Mutex
	f  Faults
}

// SetFaults replaces the current faults; the zero Faults turns them all off.
func (s *Server) SetFaults(f Faults) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.f = f
}

// Faults returns what is still pending.
func (s *Server) Faults() Faults {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.f
}

// applies reports whether the faults strike a request on path; the caller holds mu.
func (fs *faultState) applies(path string) bool { return fs.f.Only == "" || fs.f.Only == path }

func (fs *faultState) latency(path string) time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !fs.applies(path) {
		return 0
	}
	return fs.f.Latency
}

func (fs *faultState) searchLag() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f.SearchLag
}

func (fs *faultState) takeFailAfter(path string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.applies(path) && fs.f.FailAfterNext > 0 {
		fs.f.FailAfterNext--
		return true
	}
	return false
}

// cachedFault is a 5xx struck after execution began, kept under the key.
type cachedFault int

const (
	cachedNone      cachedFault = iota
	cachedBefore                // nothing done
	cachedAfterWork             // the work done
)

// takeCached picks the cached 5xx, if any, for a POST carrying a key.
func (fs *faultState) takeCached(path string) cachedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case !fs.applies(path):
		return cachedNone
	case fs.f.FailCachedNext > 0:
		fs.f.FailCachedNext--
		return cachedBefore
	case fs.f.FailCachedAfterNext > 0:
		fs.f.FailCachedAfterNext--
		return cachedAfterWork
	}
	return cachedNone
}

type faultKind int

const (
	faultNone faultKind = iota
	faultDrop
	faultFail
)

// before picks the fault, if any, that stops a request before any work.
func (fs *faultState) before(method, path string) faultKind {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case !fs.applies(path):
		return faultNone
	case fs.f.DropNext > 0:
		fs.f.DropNext--
		return faultDrop
	case method == http.MethodPost && fs.f.FailNext > 0:
		fs.f.FailNext--
		return faultFail
	case fs.f.ErrorRate > 0 && rand.Float64() < fs.f.ErrorRate:
		return faultFail
	}
	return faultNone
}

// injectFault applies the faults that strike before any work; true means the
// request has been answered (or dropped) already.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	switch s.faults.before(r.Method, r.URL.Path) {
	case faultDrop:
		s.log.Info("sandbox: dropping connection", "method", r.Method, "path", r.URL.Path)
		dropConnection(w)
		return true
	case faultFail:
		s.log.Info("sandbox: answering 500", "method", r.Method, "path", r.URL.Path)
		writeResponse(w, http.StatusInternalServerError, internalError())
		return true
	}
	return false
}

// dropConnection closes the connection without a byte of answer, the way a
// network failure looks to the client.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
