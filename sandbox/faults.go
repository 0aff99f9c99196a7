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
	ErrorRate     float64       // 0..1: share of /v1 calls answered 500 without doing anything
	Latency       time.Duration // added to every /v1 call
	FailNext      int           // next N /v1 POSTs answer 500 without doing anything
	FailAfterNext int           // next N /v1 POSTs do the work, then answer 500
	DropNext      int           // next N /v1 requests: the connection is closed without an answer
}

// faultsJSON is the wire form of Faults on /_sandbox/faults.
type faultsJSON struct {
	ErrorRate     float64 `json:"error_rate"`
	LatencyMS     int64   `json:"latency_ms"`
	FailNext      int     `json:"fail_next"`
	FailAfterNext int     `json:"fail_after_next"`
	DropNext      int     `json:"drop_next"`
}

// MarshalJSON writes the latency in milliseconds.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{f.ErrorRate, f.Latency.Milliseconds(), f.FailNext, f.FailAfterNext, f.DropNext})
}

// UnmarshalJSON reads the latency in milliseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = Faults{w.ErrorRate, time.Duration(w.LatencyMS) * time.Millisecond, w.FailNext, w.FailAfterNext, w.DropNext}
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

func (fs *faultState) latency() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f.Latency
}

func (fs *faultState) takeFailAfter() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.FailAfterNext > 0 {
		fs.f.FailAfterNext--
		return true
	}
	return false
}

type faultKind int

const (
	faultNone faultKind = iota
	faultDrop
	faultFail
)

// before picks the fault, if any, that stops a request before any work.
func (fs *faultState) before(method string) faultKind {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
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
	switch s.faults.before(r.Method) {
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
