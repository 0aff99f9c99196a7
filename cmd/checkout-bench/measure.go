package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// cpuProfile is -cpuprofile: where the CPU profile of the rounds is written.
var cpuProfile = ""

// measurement spans the rounds: the counters from its start, and the CPU
// profile if asked for.
type measurement struct {
	before  map[string]int64
	profile *os.File
}

func startMeasurement() (*measurement, error) {
	m := &measurement{before: tally.snapshot()}
	if cpuProfile == "" {
		return m, nil
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	m.profile = f
	return m, nil
}

// finish waits for the orders' work behind the buyers' answers (notify,
// status records) to settle, stops the profile and prints the counts per
// purchase.
func (m *measurement) finish(purchases int) error {
	settle()
	if m.profile != nil {
		pprof.StopCPUProfile()
		if err := m.profile.Close(); err != nil {
			return err
		}
	}
	fmt.Println()
	printPerPurchase(os.Stdout, m.before, tally.snapshot(), purchases)
	if m.profile != nil {
		fmt.Printf("CPU profile of the rounds: %s — one component: go tool pprof -tagfocus=%s=api -top %s (api, worker, sandbox, engine, bench); the split: go tool pprof -tags %s\n",
			cpuProfile, componentLabel, cpuProfile, cpuProfile)
	}
	return nil
}

// settle waits until the store and the sandbox have been quiet for a second
// (at most 20 s): an order's work goes on after its buyer's answer.
func settle() {
	activity := func() int64 { return tally.total(kindDB) + tally.total(kindStripe) }
	last, quiet := activity(), 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && quiet < 4; {
		time.Sleep(250 * time.Millisecond)
		if now := activity(); now == last {
			quiet++
		} else {
			last, quiet = now, 0
		}
	}
}
