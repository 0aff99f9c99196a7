package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// -overload: find the saturating concurrency, then offer 8× it. Every step
// is the same kind of load: c buyers buying for a while, each a new buyer as
// soon as answered, or after the Retry-After it was told when refused (a
// buyer honouring it), so refusals below saturation cost a step its
// goodput instead of ending it early. The concurrency is stepped up from -c,
// doubling, until goodput grows by less than saturationGain over the best
// step so far (or -saturation names it); the best step is the peak. Then
// 8× its concurrency is offered, for longer, and its goodput, refusals and
// the p99 of the admitted are printed beside the peak's.

const (
	// overloadStock is added to the bench product's stock for -overload and
	// -kill-worker, which buy more than the rounds.
	overloadStock = 200_000
	// saturationGain: a step adding less than this much throughput over the
	// best so far has passed saturation.
	saturationGain = 1.10
	// maxStepConcurrency bounds the search.
	maxStepConcurrency = 512
	// stepDuration is how long each saturation step runs; the 8× load runs
	// overloadDuration.
	stepDuration     = 6 * time.Second
	overloadDuration = 15 * time.Second
)

type step struct {
	c   int
	res overloadResult
}

func (e *env) overload(prefix, productID string, o options) {
	var steps []step
	run := func(c int) step {
		res := e.overloadFor(fmt.Sprintf("%s-c%d", prefix, c), productID, c, stepDuration, false)
		s := step{c: c, res: res}
		steps = append(steps, s)
		fmt.Printf("saturation step: %4d buyers for %s  %6.1f purchases/s  pay %s  (%d refused with Retry-After, %d without, %d other)\n",
			c, stepDuration, res.goodput, summary(res.lat), res.refused, res.refusedBare, res.other)
		return s
	}
	fmt.Println()
	if o.saturation > 0 {
		run(o.saturation)
	} else {
		best := 0.0
		for c := o.c; c <= maxStepConcurrency; c *= 2 {
			s := run(c)
			if s.res.goodput < best*saturationGain {
				break
			}
			best = max(best, s.res.goodput)
		}
	}
	peak := peakStep(steps)
	c := peak.c * overloadFactor
	res := e.overloadFor(prefix+"-8x", productID, c, overloadDuration, true)
	peakP99, admP99 := percentile(peak.res.lat, 0.99), percentile(res.lat, 0.99)
	fmt.Printf("\noverload: peak %.1f purchases/s at %d buyers (pay p99 %s); %d buyers (8×) for %s, %d purchases sent: %d authorized, %d refused with 429/503 + Retry-After, %d refused without Retry-After, %d other %v\n",
		peak.res.goodput, peak.c, ms(peakP99), c, overloadDuration, res.offered, res.admitted, res.refused, res.refusedBare, res.other, res.statuses)
	fmt.Printf("goodput %.1f purchases/s (%.0f%% of peak); admitted pay %s; p99 of the admitted %s (%.2f× the p99 at peak)\n",
		res.goodput, 100*ratio(res.goodput, peak.res.goodput), summary(res.lat), ms(admP99), durRatio(admP99, peakP99))
	fmt.Printf("load average after: %s\n", loadAverage())
}

// peakStep is the step with the most purchases/s.
func peakStep(steps []step) step {
	s := append([]step(nil), steps...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].res.goodput > s[j].res.goodput })
	return s[0]
}

// overloadFor keeps c buyers buying for dur; each new purchase is a new
// buyer. A refused buyer waits its Retry-After (at most 2 s) first. trace
// prints the admission's state every second.
func (e *env) overloadFor(prefix, productID string, c int, dur time.Duration, trace bool) overloadResult {
	res := overloadResult{statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	if trace {
		defer e.traceAdmission(began)()
	}
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Since(began) < dur; i++ {
				key := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				t0 := time.Now()
				code, hdr, err := e.send("/v1/purchases", e.token("buyer-"+key), map[string]string{"Idempotency-Key": key}, purchaseBody(productID), nil)
				d := time.Since(t0)
				var wait time.Duration
				mu.Lock()
				res.offered++
				switch {
				case err != nil:
					res.other++
					res.statuses[-1]++
				case code == http.StatusCreated:
					res.admitted++
					res.lat = append(res.lat, d)
				case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
					if s, perr := strconv.Atoi(hdr.Get("Retry-After")); perr == nil && s > 0 {
						res.refused++
						wait = min(2*time.Second, time.Duration(s)*time.Second)
					} else {
						res.refusedBare++
					}
				default:
					res.other++
					res.statuses[code]++
				}
				mu.Unlock()
				time.Sleep(wait)
			}
		}()
	}
	wg.Wait()
	res.goodput = float64(res.admitted) / time.Since(began).Seconds()
	return res
}

// traceAdmission prints the API's admission state every second until the
// returned func is called: the limit, what is in flight and in line, the
// answer time it measures against the one it tolerates, and the refusals.
func (e *env) traceAdmission(began time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			m := gauges(e.metrics)
			fmt.Printf("  %3.0fs  admission limit %3.0f  in flight %3.0f  in line %3.0f  answer %s (tolerated %s)  refused %.0f at once, %.0f in line\n",
				time.Since(began).Seconds(), m["checkout_admission_limit"], m["checkout_admission_in_flight"], m["checkout_admission_queued"],
				ms(seconds(m["checkout_admission_answer_seconds"])), ms(seconds(m["checkout_admission_tolerated_answer_seconds"])),
				m[`checkout_admission_refused_total{reason="at_once"}`], m[`checkout_admission_refused_total{reason="in_line"}`])
		}
	}()
	return func() { close(done); wg.Wait() }
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// gauges reads every gauge and counter of reg, by name and labels.
func gauges(reg *prometheus.Registry) map[string]float64 {
	out := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf(`{%s=%q}`, l.GetName(), l.GetValue())
			}
			switch {
			case m.Gauge != nil:
				out[name] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[name] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}
