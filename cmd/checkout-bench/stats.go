package main

import (
	"fmt"
	"slices"
	"time"
)

// percentile is the nearest-rank percentile (p in [0,1]) of ds: the value
// at rank ceil(p·n), so p99 of 100 samples is the 99th smallest. Zero for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p*float64(len(s)) + 0.999999999)
	rank = max(1, min(rank, len(s)))
	return s[rank-1]
}

// ratio is a/b, or 0 when b is zero (nothing to compare against).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// durRatio is a/b for latencies.
func durRatio(a, b time.Duration) float64 { return ratio(float64(a), float64(b)) }

// mean is the average of xs, 0 for none.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var t float64
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(percentile(ds, 0.50)), ms(percentile(ds, 0.90)),
		ms(percentile(ds, 0.99)), ms(percentile(ds, 1)))
}
