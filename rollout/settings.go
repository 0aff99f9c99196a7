package rollout

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/buybutton/checkout/models"
)

// MaxListSize bounds each id list. The lists are held in memory and checked on
// every page view; anything larger belongs in a database, not in an env var.
const MaxListSize = 10_000

// CodeInvalidSettings is the error code of every Validate failure.
const CodeInvalidSettings = "invalid_rollout_settings"

// Settings is what an operator controls. Deny beats Allow, and a disabled
// merchant beats both: the switches that take the button away must always win
// over the ones that hand it out.
type Settings struct {
	Percent           float64  `json:"percent"`            // 0–100, decimals allowed (0.5)
	Allow             []string `json:"allow"`              // buyer ids always in (dogfood)
	Deny              []string `json:"deny"`               // buyer ids always out
	DisabledMerchants []string `json:"disabled_merchants"` // nobody buys from these
	// Countries, when not empty, admits only buyers whose token carries one
	// of these country claims (ISO 3166-1 alpha-2, e.g. "NZ"); a token
	// without a country is then outside the percentage. The allowlist still
	// wins.
	Countries []string `json:"countries"`
	// Schedule raises the percentage on its own: from each step's time on,
	// the step's percentage applies (before the first step, Percent). Steps
	// are in time order and never lower the share, so a buyer once in stays
	// in as it grows (buckets are fixed per buyer).
	Schedule []Step `json:"schedule"`
	// Paused holds the rollout at Percent whatever the schedule says: the
	// switch for a pause (set Percent to the share reached) or a rollback
	// (a lower Percent, 0 to switch the button off).
	Paused bool `json:"paused"`
}

// Step is one point of a ramp schedule.
type Step struct {
	At      time.Time `json:"at"`
	Percent float64   `json:"percent"`
}

// MaxScheduleSteps bounds a ramp schedule.
const MaxScheduleSteps = 100

// PercentAt is the share of buyers in the rollout at time now.
func (s Settings) PercentAt(now time.Time) float64 {
	p := s.Percent
	if s.Paused {
		return p
	}
	for _, st := range s.Schedule {
		if now.Before(st.At) {
			break
		}
		p = st.Percent
	}
	return p
}

// Validate reports every problem at once, so an operator fixing a bad
// configuration does not have to redeploy once per mistake.
func (s Settings) Validate() error {
	var problems []string
	if math.IsNaN(s.Percent) || s.Percent < 0 || s.Percent > 100 {
		problems = append(problems, fmt.Sprintf("percent must be between 0 and 100, got %v", s.Percent))
	}
	problems = append(problems, checkIDs("allow", s.Allow)...)
	problems = append(problems, checkIDs("deny", s.Deny)...)
	problems = append(problems, checkIDs("disabled_merchants", s.DisabledMerchants)...)
	for i, c := range s.Countries {
		if !validCountry(c) {
			problems = append(problems, fmt.Sprintf("countries[%d] %q is not an ISO 3166-1 alpha-2 code like \"NZ\"", i, clip(c)))
		}
	}
	if len(s.Schedule) > MaxScheduleSteps {
		problems = append(problems, fmt.Sprintf("schedule has %d steps, at most %d allowed", len(s.Schedule), MaxScheduleSteps))
	}
	last := s.Percent
	for i, st := range s.Schedule {
		switch {
		case math.IsNaN(st.Percent) || st.Percent < 0 || st.Percent > 100:
			problems = append(problems, fmt.Sprintf("schedule[%d].percent must be between 0 and 100, got %v", i, st.Percent))
		case st.At.IsZero():
			problems = append(problems, fmt.Sprintf("schedule[%d].at is required", i))
		case i > 0 && !st.At.After(s.Schedule[i-1].At):
			problems = append(problems, fmt.Sprintf("schedule[%d].at must be after schedule[%d].at", i, i-1))
		case st.Percent < last:
			problems = append(problems, fmt.Sprintf("schedule[%d].percent %v is below the share before it (%v): a schedule only grows; pause and lower percent to roll back", i, st.Percent, last))
		}
		last = st.Percent
	}
	if len(problems) > 0 {
		return models.Invalid(CodeInvalidSettings, "rollout settings: %s", strings.Join(problems, "; "))
	}
	return nil
}

func checkIDs(list string, ids []string) []string {
	if len(ids) > MaxListSize {
		return []string{fmt.Sprintf("%s has %d ids, at most %d allowed", list, len(ids), MaxListSize)}
	}
	var problems []string
	for i, id := range ids {
		if !models.ValidID(id) {
			problems = append(problems, fmt.Sprintf("%s[%d] %q is not a valid id", list, i, clip(id)))
		}
	}
	return problems
}

// validCountry accepts upper-case ISO 3166-1 alpha-2 shapes.
func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// clip keeps a garbage value (a pasted file, say) from flooding the logs.
func clip(s string) string {
	const limit = 68
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// clone deep-copies the lists so neither the gate nor its callers can change
// the other's view by writing into a shared backing array.
func (s Settings) clone() Settings {
	s.Allow = slices.Clone(s.Allow)
	s.Deny = slices.Clone(s.Deny)
	s.DisabledMerchants = slices.Clone(s.DisabledMerchants)
	s.Countries = slices.Clone(s.Countries)
	s.Schedule = slices.Clone(s.Schedule)
	return s
}
