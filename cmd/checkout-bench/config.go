package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/rollout"
)

// benchAPIConfig opens the rollout to every buyer and lifts the abuse limits,
// which would otherwise measure themselves instead of the purchase path (all
// load comes from one IP). The in-flight cap stays: it is part of the path.
func benchAPIConfig(c api.Config) (api.Config, error) {
	gate, err := rollout.NewGate(rollout.Settings{Percent: 100})
	if err != nil {
		return c, err
	}
	c.Rollout = gate
	c.RateLimits = api.RateLimits{IP: api.RateLimit{Off: true}, Buyer: api.RateLimit{Off: true}, Merchant: api.RateLimit{Off: true}}
	return c, nil
}

func runtimeCPU() int { return runtime.NumCPU() }

// temporalCLI is the CLI whose embedded dev server both sides run against.
var temporalCLI string

func devServerVersion() string {
	out, err := exec.Command(temporalCLI, "--version").Output()
	if err != nil {
		return "(version unknown)"
	}
	return strings.TrimSpace(string(out))
}

// loadAverage is the machine's 1/5/15-minute load when the rounds begin:
// the figures are only comparable within one run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
