package rollout

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
	return s
}
