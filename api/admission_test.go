package api

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

// clock is a hand-moved time for the admission's answer-time samples.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestAdmission(l AdmissionLimits, payWait time.Duration) (*admission, *clock) {
	a := newAdmission(l, payWait)
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	a.now = c.now
	return a, c
}

// fill takes every place the limit has now, and returns the tickets.
func fill(t *testing.T, a *admission) []*ticket {
	t.Helper()
	var ts []*ticket
	for {
		_, in, _ := a.state()
		if in >= a.places() {
			return ts
		}
		tk, err := a.acquire(context.Background())
		if err != nil {
			t.Fatalf("acquire below the limit: %v", err)
		}
		ts = append(ts, tk)
	}
}

// round runs one full load of purchases, each answered after took.
func round(t *testing.T, a *admission, c *clock, took time.Duration, timedOut bool) {
	t.Helper()
	ts := fill(t, a)
	c.advance(took)
	for _, tk := range ts {
		tk.done(timedOut)
	}
}

func TestAdmissionLimitGrowsWhileAnswersStayFast(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 8, Max: 64}, 5*time.Second)
	// One place more per answer time: 8 → 64 in 56 rounds.
	for range 30 {
		round(t, a, c, 100*time.Millisecond, false)
	}
	if limit, _, _ := a.state(); limit < 30 || limit > 40 {
		t.Fatalf("limit %.1f after 30 full rounds of steady 100 ms answers, want about one place more per answer time (38)", limit)
	}
	for range 30 {
		round(t, a, c, 100*time.Millisecond, false)
	}
	limit, inFlight, _ := a.state()
	if limit < 64 {
		t.Fatalf("limit %.1f after 60 full rounds of steady 100 ms answers, want it grown to the maximum 64", limit)
	}
	if inFlight != 0 {
		t.Fatalf("%d still in flight after every ticket was done", inFlight)
	}
}

func TestAdmissionLimitShrinksWhenAnswersSlowDown(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 32, Max: 64}, 5*time.Second)
	for range 5 {
		round(t, a, c, 100*time.Millisecond, false)
	}
	before, _, _ := a.state()
	// Answers eight times the baseline: well past the tolerance.
	for range 5 {
		round(t, a, c, 800*time.Millisecond, false)
	}
	after, _, _ := a.state()
	if after >= before*0.75 {
		t.Fatalf("limit %.1f → %.1f after answers went from 100 ms to 800 ms, want it well down", before, after)
	}
	// Slow for long: the limit goes to its floor, not below.
	for range 50 {
		round(t, a, c, 2*time.Second, false)
	}
	if floor, _, _ := a.state(); floor != defaultMinLimit {
		t.Fatalf("limit %.1f after long overload, want the minimum %d", floor, defaultMinLimit)
	}
}

func TestAdmissionTimedOutPurchasesCountAsOverload(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 32}, 5*time.Second)
	round(t, a, c, 100*time.Millisecond, false)
	before, _, _ := a.state()
	// As fast as the baseline, but answered 202 after PAY_WAIT.
	round(t, a, c, 100*time.Millisecond, true)
	if after, _, _ := a.state(); after >= before {
		t.Fatalf("limit %.1f → %.1f after a round of timed-out purchases, want it down", before, after)
	}
}

// A limit far above what is in flight is not evidence: it does not grow.
func TestAdmissionLimitDoesNotGrowWhenIdle(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 16}, 5*time.Second)
	for range 50 {
		tk, err := a.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.advance(50 * time.Millisecond)
		tk.done(false)
	}
	if limit, _, _ := a.state(); limit != 16 {
		t.Fatalf("limit %.1f after one purchase at a time, want it left at 16", limit)
	}
}

func TestAdmissionQueuesWhileTheAnswerCanStillComeInTime(t *testing.T) {
	// Fixed limit 2, answers of 4 s: a place frees every 2 s, and a buyer
	// may wait one answer time (4 s): places 1 and 2 in line.
	a, c := newTestAdmission(AdmissionLimits{Initial: 2, Min: 2, Max: 2}, 30*time.Second)
	round(t, a, c, 4*time.Second, false)
	held := fill(t, a)
	if got := a.queueBudget(); got != 4*time.Second {
		t.Fatalf("queue budget %s, want one answer time, 4s", got)
	}

	type result struct {
		i   int
		tk  *ticket
		err error
	}
	results := make(chan result, 2)
	for i := range 2 {
		go func() {
			tk, err := a.acquire(context.Background())
			results <- result{i, tk, err}
		}()
		waitQueued(t, a, i+1)
	}
	// The third would wait 6 s, past its 4 s budget: refused at once,
	// told when a place is expected.
	tk, err := a.acquire(context.Background())
	var busy *busyError
	if !errors.As(err, &busy) || tk != nil {
		t.Fatalf("third in line: %v, want refused", err)
	}
	if busy.RetryAfter != 6*time.Second {
		t.Fatalf("Retry-After %s, want the expected wait 6s", busy.RetryAfter)
	}
	// Places free: they go to the line in its order.
	for want := range 2 {
		held[want].done(false)
		if r := <-results; r.err != nil || r.i != want {
			t.Fatalf("freed place went to %d (%v), want number %d in line", r.i, r.err, want)
		} else {
			held[want] = r.tk
		}
	}
	for _, tk := range held {
		tk.done(false)
	}
	if s := a.snapshot(); s.inFlight != 0 || s.queued != 0 || s.refused != [2]uint64{1, 0} {
		t.Fatalf("after all done: %+v, want nothing in flight or in line and one refusal at once", s)
	}
}

// A path whose answers take 100 ms up to 8 in flight and grow in proportion
// past it (a saturated engine): the limit falls from its start, then settles
// where answers reach the tolerated 3 × 100 ms, about 24 in flight, and
// stays there instead of swinging. (The floor is learnt from answers when
// the path is not queueing: here a few purchases one at a time first. Over
// the quarter minute of overload the baseline creeps up by its five-minute
// time constant, by some hundredths of the gap, which the bounds allow.)
func TestAdmissionLimitSettlesWhereAnswersReachTheTolerance(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 32}, 5*time.Second)
	answer := func(inFlight int) time.Duration {
		return time.Duration(float64(100*time.Millisecond) * math.Max(1, float64(inFlight)/8))
	}
	for range 5 {
		tk, err := a.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.advance(answer(1))
		tk.done(false)
	}
	for i := range 60 {
		ts := fill(t, a)
		c.advance(answer(len(ts)))
		for _, tk := range ts {
			tk.done(false)
		}
		if limit, _, _ := a.state(); i >= 20 && (limit < 21 || limit > 31) {
			t.Fatalf("round %d: limit %.1f, want it settled near 24 (answers 3× the 100 ms floor)", i, limit)
		}
	}
}

func TestAdmissionNeverQueuesPastPayWait(t *testing.T) {
	// Answers take 900 ms and PAY_WAIT is 1 s: the answer of anyone who
	// waits more than 100 ms in line would come too late.
	a, c := newTestAdmission(AdmissionLimits{Initial: 4, Min: 4, Max: 4}, time.Second)
	round(t, a, c, 900*time.Millisecond, false)
	held := fill(t, a)
	if got := a.queueBudget(); got != 100*time.Millisecond {
		t.Fatalf("queue budget %s, want PAY_WAIT less one answer time, 100ms", got)
	}
	// Next in line would wait 225 ms: refused at once.
	_, err := a.acquire(context.Background())
	var busy *busyError
	if !errors.As(err, &busy) || busy.RetryAfter != 225*time.Millisecond {
		t.Fatalf("acquire: %v, want refused with Retry-After 225ms", err)
	}
	if _, _, q := a.state(); q != 0 {
		t.Fatalf("%d queued after a refusal", q)
	}
	for _, tk := range held {
		tk.done(false)
	}
}

func TestAdmissionRefusesAQueuedBuyerWhoseBudgetRunsOut(t *testing.T) {
	a, c := newTestAdmission(AdmissionLimits{Initial: 1, Min: 1, Max: 1}, 5*time.Second)
	round(t, a, c, 30*time.Millisecond, false)
	held := fill(t, a)
	_, err := a.acquire(context.Background()) // waits its 30 ms budget; no place frees
	var busy *busyError
	if !errors.As(err, &busy) {
		t.Fatalf("acquire: %v, want refused once its budget ran out", err)
	}
	if _, in, q := a.state(); in != 1 || q != 0 {
		t.Fatalf("%d in flight, %d queued, want 1 and 0: the refused buyer left the line", in, q)
	}
	held[0].done(false)
	// The place it did not take is free.
	tk, err := a.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tk.done(false)
}

func TestAdmissionTicketDoneOnce(t *testing.T) {
	a, _ := newTestAdmission(AdmissionLimits{}, 5*time.Second)
	tk, err := a.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tk.done(false)
	tk.done(false)
	if _, in, _ := a.state(); in != 0 {
		t.Fatalf("%d in flight after one ticket done twice, want 0", in)
	}
}

func TestAdmissionLimitsDefaults(t *testing.T) {
	l := AdmissionLimits{}.withDefaults()
	if l.Initial != defaultInitialLimit || l.Min != defaultMinLimit || l.Max != defaultMaxLimit {
		t.Fatalf("defaults %+v", l)
	}
	if l := (AdmissionLimits{Initial: 100, Max: 10}).withDefaults(); l.Initial != 10 || l.Min != 4 {
		t.Fatalf("initial above max: %+v, want clamped to 10", l)
	}
}

// waitQueued waits until n purchases stand in line.
func waitQueued(t *testing.T, a *admission, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, q := a.state(); q >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never %d in line", n)
}
