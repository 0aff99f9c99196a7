package main

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}}
	for _, c := range cases {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%.0f = %s, want %s", c.p*100, got, c.want)
		}
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("percentile sorted its input in place")
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("one sample: %s", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("no samples: %s", got)
	}
	// Three samples: p50 is the second, p99 the third.
	three := []time.Duration{30, 10, 20}
	if percentile(three, 0.5) != 20 || percentile(three, 0.99) != 30 {
		t.Errorf("three samples: p50 %s p99 %s", percentile(three, 0.5), percentile(three, 0.99))
	}
}

func TestRatios(t *testing.T) {
	if got := ratio(17.5, 28); got != 0.625 {
		t.Errorf("ratio = %v", got)
	}
	if got := ratio(3, 0); got != 0 {
		t.Errorf("ratio over zero = %v", got)
	}
	if got := durRatio(450*time.Millisecond, 150*time.Millisecond); got != 3 {
		t.Errorf("durRatio = %v", got)
	}
	if got := mean([]float64{10, 20, 33}); got != 21 {
		t.Errorf("mean = %v", got)
	}
}

func TestHistoryCountsBuyerPath(t *testing.T) {
	// The waiting path ends at the first completed update (the pay answer).
	kinds := []string{"WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
		"MarkerRecorded", "WorkflowExecutionUpdateAccepted", "ActivityTaskScheduled", "WorkflowTaskCompleted",
		"WorkflowExecutionUpdateCompleted", "WorkflowTaskCompleted", "UpsertWorkflowSearchAttributes", "WorkflowExecutionSignaled",
		"WorkflowExecutionCompleted"}
	h := countHistory(kinds)
	if h.events != 13 || h.tasks != 3 || h.tasksToPay != 2 || h.markers != 1 || h.upserts != 1 || h.updates != 1 || h.signals != 1 || h.activities != 1 {
		t.Errorf("counts = %+v", h)
	}
}
