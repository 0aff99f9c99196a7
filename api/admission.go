package api

import (
	"context"
	"math"
	"sync"
	"time"
)

// Admission of purchases: how many may wait on Temporal at once, and who
// queues for a free place.
//
// The bound follows the measured answer time instead of a fixed number (the
// gradient algorithm of Netflix's concurrency-limits, Gradient2, reduced to
// what the purchase path needs; no Go library of it is served here). Every
// finished purchase is a sample of how long its answer took. A short
// average of the samples is compared with a baseline, the answer time when
// the engine is not queueing: while answers stay within `tolerance` times
// the baseline the limit grows (by a fraction of a place per sample), past
// it the limit shrinks in proportion. So
// the bound settles near the concurrency where throughput stops growing and
// answer time starts to, whatever the machine, the cluster or the mix of
// purchases; a purchase that ran out of PAY_WAIT (answered 202) counts as
// overload whatever its answer time: the gradient at its floor, one half.
//
// The baseline is a soft minimum: it follows faster answers at once and
// slower ones only slowly (about 1/5000 of the gap per sample), so minutes
// of overload do not teach it that slow is normal.
//
// A purchase finding no place queues, first come first served, only if its
// answer can still be expected in time: its expected wait in line (its place
// times the answer time over the limit, Little's law) must fit both inside
// PAY_WAIT less one answer time, and inside one answer time (so an admitted
// buyer waits at most about twice the answer time). Otherwise it is refused
// at once with 503 and a Retry-After of that expected wait; the same happens
// if its place has not come when its budget ran out. A refused buyer has
// started nothing: its Idempotency-Key is claimed and its retry continues
// the same order.

// AdmissionLimits bound the adaptive limit. Zero fields take the defaults.
type AdmissionLimits struct {
	// Initial is the limit before any purchase has finished. Default 32 (the
	// fixed bound it replaces), so a burst at start is not refused.
	Initial int
	// Min and Max bound the limit. Defaults 4 and 256.
	Min, Max int
}

const (
	defaultInitialLimit = 32
	defaultMinLimit     = 4
	defaultMaxLimit     = 256

	// admissionTolerance: answers up to this many times the baseline are
	// not yet overload.
	admissionTolerance = 2.5
	// admissionSmoothing is how much of the new limit each sample takes.
	admissionSmoothing = 0.2
	// admissionHeadroom is added to the limit at each sample within the
	// tolerance (Gradient2's queue size), so the limit probes upward. Unlike
	// Gradient2 it is not added to a shrinking limit, which would keep the
	// limit from falling below twice the headroom.
	admissionHeadroom = 4.0
	// shortWindow is the number of samples in the short average.
	shortWindow = 10
	// baselineDown and baselineUp are how fast the baseline follows an
	// answer faster or slower than itself.
	baselineDown = 0.05
	baselineUp   = 0.0002
	// initialAnswerTime is assumed before the first sample.
	initialAnswerTime = 200 * time.Millisecond
)

func (l AdmissionLimits) withDefaults() AdmissionLimits {
	if l.Min <= 0 {
		l.Min = defaultMinLimit
	}
	if l.Max <= 0 {
		l.Max = defaultMaxLimit
	}
	l.Min = min(l.Min, l.Max)
	if l.Initial <= 0 {
		l.Initial = defaultInitialLimit
	}
	l.Initial = max(l.Min, min(l.Initial, l.Max))
	return l
}

// admission is the limiter and its queue. The zero value is not usable; use
// newAdmission.
type admission struct {
	mu       sync.Mutex
	bounds   AdmissionLimits
	payWait  time.Duration
	limit    float64
	inFlight int
	queue    []*admissionWaiter
	samples  int
	short    float64 // seconds, average of the last samples
	baseline float64 // seconds, soft minimum
	now      func() time.Time
}

type admissionWaiter struct {
	ready    chan struct{}
	admitted bool
}

func newAdmission(l AdmissionLimits, payWait time.Duration) *admission {
	l = l.withDefaults()
	return &admission{bounds: l, payWait: payWait, limit: float64(l.Initial), now: time.Now}
}

// busyError refuses a purchase; RetryAfter is when a place can be expected.
type busyError struct{ RetryAfter time.Duration }

func (e *busyError) Error() string { return "too many purchases in progress" }

// ticket is one admitted purchase; done records how long its answer took.
type ticket struct {
	a     *admission
	start time.Time
	once  sync.Once
}

// done frees the place. timedOut says the answer did not come inside
// PAY_WAIT (an overload sample).
func (t *ticket) done(timedOut bool) {
	t.once.Do(func() { t.a.release(t.a.now().Sub(t.start), timedOut) })
}

// acquire admits the purchase now, queues it while its answer can still
// come in time, or refuses it with a *busyError.
func (a *admission) acquire(ctx context.Context) (*ticket, error) {
	a.mu.Lock()
	if len(a.queue) == 0 && a.inFlight < a.places() {
		a.inFlight++
		a.mu.Unlock()
		return &ticket{a: a, start: a.now()}, nil
	}
	wait, budget := a.expectedWait(len(a.queue)+1), a.queueBudget()
	if wait > budget {
		a.mu.Unlock()
		return nil, &busyError{RetryAfter: wait}
	}
	w := &admissionWaiter{ready: make(chan struct{})}
	a.queue = append(a.queue, w)
	a.mu.Unlock()

	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case <-w.ready:
		return &ticket{a: a, start: a.now()}, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.admitted { // admitted just as the budget ran out: take the place
		return &ticket{a: a, start: a.now()}, nil
	}
	for i, q := range a.queue {
		if q == w {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			break
		}
	}
	return nil, &busyError{RetryAfter: a.expectedWait(len(a.queue) + 1)}
}

// places is the limit as a whole number of purchases.
func (a *admission) places() int { return int(a.limit) }

// answerTime is the expected time of one answer.
func (a *admission) answerTime() time.Duration {
	if a.samples == 0 {
		return initialAnswerTime
	}
	return time.Duration(a.short * float64(time.Second))
}

// expectedWait is how long the purchase at place pos (1 = next) in line can
// expect to wait: places free at limit/answerTime per second.
func (a *admission) expectedWait(pos int) time.Duration {
	return time.Duration(float64(pos) * float64(a.answerTime()) / math.Max(1, a.limit))
}

// queueBudget is the longest a purchase may wait in line: its answer must
// still come inside PAY_WAIT, and its whole wait stay within about twice an
// answer time.
func (a *admission) queueBudget() time.Duration {
	at := a.answerTime()
	return max(0, min(a.payWait-at, at))
}

func (a *admission) release(took time.Duration, timedOut bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sample(took.Seconds(), timedOut)
	a.inFlight--
	for len(a.queue) > 0 && a.inFlight < a.places() {
		w := a.queue[0]
		a.queue = a.queue[1:]
		w.admitted = true
		a.inFlight++
		close(w.ready)
	}
}

// sample moves the limit by one finished purchase (the inFlight it ran
// with is still counted).
func (a *admission) sample(rtt float64, timedOut bool) {
	a.samples++
	if a.samples == 1 {
		a.short, a.baseline = rtt, rtt
	} else {
		n := float64(min(a.samples, shortWindow))
		a.short += (rtt - a.short) * 2 / (n + 1)
		if rtt < a.baseline {
			a.baseline += (rtt - a.baseline) * baselineDown
		} else {
			a.baseline += (rtt - a.baseline) * baselineUp
		}
	}
	// A limit far above the purchases in flight says nothing about overload
	// and must not keep growing on it.
	if !timedOut && float64(a.inFlight) < a.limit/2 {
		return
	}
	gradient := math.Max(0.5, math.Min(1, admissionTolerance*a.baseline/a.short))
	if timedOut {
		gradient = 0.5
	}
	next := a.limit * gradient
	if gradient == 1 {
		next += admissionHeadroom
	}
	next = a.limit*(1-admissionSmoothing) + next*admissionSmoothing
	a.limit = math.Max(float64(a.bounds.Min), math.Min(float64(a.bounds.Max), next))
}

// state is the limit, the purchases in flight and those in line (read by the tests; no metric reports them yet).
func (a *admission) state() (limit float64, inFlight, queued int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit, a.inFlight, len(a.queue)
}
