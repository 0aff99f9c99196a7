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
// gradient idea of Netflix's concurrency-limits, reduced to what the
// purchase path needs; no Go library of it is served here). Every finished
// purchase is a sample of how long its answer took. A short average of the
// samples is compared with a baseline, the answer time when the engine is
// not queueing; the tolerated answer time is `tolerance` times the
// baseline. The limit moves once per answer time, when the purchases it
// admitted have had time to answer: by one place up while answers stay
// within the tolerance and the limit is in use, in proportion down (to at
// most half) while they do not, to half when a purchase ran out of PAY_WAIT
// (answered 202). Moving once per answer time, not at every sample, lets a
// change show in the answers before the next one is made, so the limit
// settles near the concurrency where throughput stops growing and answer
// time starts to, instead of swinging around it.
//
// The baseline is a soft minimum: it follows faster answers quickly (1/20 of
// the gap per sample) and slower ones only slowly, by time rather than by
// sample (the gap closes with a time constant of five minutes), so a burst of
// overload, however many purchases it holds, does not teach it that slow is
// normal, while a path that became slower for good is learnt in minutes.
//
// A purchase finding no place queues, first come first served, only if its
// answer can still be expected in time: its expected wait in line (its place
// times the answer time over the limit, Little's law) must fit inside
// PAY_WAIT less one answer time, and inside one answer time, so an admitted
// buyer waits at most about twice the answer time, which the limit keeps
// near the tolerated one. Otherwise it is refused at once with 503 and a
// Retry-After of that expected wait; the same happens if its place has not
// come when its budget ran out. A short line is what keeps places from
// standing empty between answers while refused buyers wait their
// Retry-After (whole seconds). A refused buyer has started nothing: its
// Idempotency-Key is not claimed and its retry is a first try.

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
	admissionTolerance = 3.0
	// admissionFloor is the most the limit falls in one move.
	admissionFloor = 0.5
	// shortWindow is the number of samples in the short average.
	shortWindow = 10
	// baselineDown is how much of the gap the baseline closes at an answer
	// faster than itself; baselineRise the time constant with which it
	// follows slower ones.
	baselineDown = 0.05
	baselineRise = 5 * time.Minute
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

	// The window since the limit last moved: when it began, whether the
	// limit was in use (half of it in flight) and whether a purchase ran
	// out of PAY_WAIT in it.
	windowStart time.Time
	lastSample  time.Time
	windowUsed  bool
	windowLate  bool

	// refused counts refusals by reason (refusedAtOnce, refusedInLine);
	// waits, when set, observes how long admitted purchases stood in line.
	refused [2]uint64
	waits   interface{ Observe(float64) }
}

// Reasons for a refusal: at once (the answer could not come in time), or
// after standing in line until the budget ran out.
const (
	refusedAtOnce = iota
	refusedInLine
)

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
		a.refused[refusedAtOnce]++
		a.mu.Unlock()
		return nil, &busyError{RetryAfter: wait}
	}
	w := &admissionWaiter{ready: make(chan struct{})}
	a.queue = append(a.queue, w)
	a.mu.Unlock()

	queued := a.now()
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case <-w.ready:
		return a.admitFromLine(queued), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.admitted { // admitted just as the budget ran out: take the place
		return a.admitFromLine(queued), nil
	}
	for i, q := range a.queue {
		if q == w {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			break
		}
	}
	a.refused[refusedInLine]++
	return nil, &busyError{RetryAfter: a.expectedWait(len(a.queue) + 1)}
}

func (a *admission) admitFromLine(queued time.Time) *ticket {
	now := a.now()
	if a.waits != nil {
		a.waits.Observe(now.Sub(queued).Seconds())
	}
	return &ticket{a: a, start: now}
}

// places is the limit as a whole number of purchases.
func (a *admission) places() int { return int(a.limit) }

// answerTime is the expected time of one answer.
func (a *admission) answerTime() time.Duration {
	if a.samples == 0 {
		return initialAnswerTime
	}
	return seconds(a.short)
}

// toleratedAnswerTime is the longest answer that is not yet overload.
func (a *admission) toleratedAnswerTime() time.Duration {
	if a.samples == 0 {
		return seconds(admissionTolerance * initialAnswerTime.Seconds())
	}
	return seconds(admissionTolerance * a.baseline)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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

// sample takes one finished purchase (the inFlight it ran with is still
// counted) and moves the limit when an answer time has passed since it last
// moved.
func (a *admission) sample(rtt float64, timedOut bool) {
	a.samples++
	now := a.now()
	if a.samples == 1 {
		a.short, a.baseline = rtt, rtt
		a.windowStart, a.lastSample = now, now
	} else {
		n := float64(min(a.samples, shortWindow))
		a.short += (rtt - a.short) * 2 / (n + 1)
		if rtt < a.baseline {
			a.baseline += (rtt - a.baseline) * baselineDown
		} else {
			a.baseline += (rtt - a.baseline) * math.Min(1, now.Sub(a.lastSample).Seconds()/baselineRise.Seconds())
		}
		a.lastSample = now
	}
	// A limit far above the purchases in flight says nothing about overload
	// and must not keep growing on it.
	a.windowUsed = a.windowUsed || float64(a.inFlight) >= a.limit/2
	a.windowLate = a.windowLate || timedOut
	if now.Sub(a.windowStart) < a.answerTime() {
		return
	}
	next := a.limit
	switch tolerated := a.toleratedAnswerTime().Seconds(); {
	case a.windowLate:
		next *= admissionFloor
	case a.short > tolerated:
		next *= math.Max(admissionFloor, tolerated/a.short)
	case a.windowUsed:
		next++
	}
	a.limit = math.Max(float64(a.bounds.Min), math.Min(float64(a.bounds.Max), next))
	a.windowStart, a.windowUsed, a.windowLate = now, false, false
}

// admissionState is what the metrics and the tests read.
type admissionState struct {
	limit             float64
	inFlight, queued  int
	answer, tolerated time.Duration
	refused           [2]uint64
}

func (a *admission) snapshot() admissionState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return admissionState{limit: a.limit, inFlight: a.inFlight, queued: len(a.queue),
		answer: a.answerTime(), tolerated: a.toleratedAnswerTime(), refused: a.refused}
}

// state is the limit, the purchases in flight and those in line.
func (a *admission) state() (limit float64, inFlight, queued int) {
	s := a.snapshot()
	return s.limit, s.inFlight, s.queued
}
