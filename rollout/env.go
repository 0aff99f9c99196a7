package rollout

import (
	"strconv"
	"strings"

	"github.com/buybutton/checkout/models"
)

// FromEnv builds Settings from the raw values of ROLLOUT_PERCENT, ROLLOUT_ALLOW,
// ROLLOUT_DENY and ROLLOUT_DISABLED_MERCHANTS. It applies no defaults: an
// empty percentage is an error, because silently choosing 0 or 100 for a
// missing variable is exactly the mistake a rollout must not make. The caller
// substitutes its own default before calling.
//
// The percentage is a decimal number ("10", "12.5", "0.5"), optionally followed
// by "%". The lists are comma-separated ids; blanks around ids and empty items
// (a trailing comma) are ignored.
func FromEnv(percent, allow, deny, disabledMerchants string) (Settings, error) {
	p := strings.TrimSpace(percent)
	p = strings.TrimSpace(strings.TrimSuffix(p, "%"))
	if p == "" {
		return Settings{}, models.Invalid(CodeInvalidSettings, "ROLLOUT_PERCENT is empty")
	}
	pct, err := strconv.ParseFloat(p, 64)
	if err != nil {
		return Settings{}, models.Invalid(CodeInvalidSettings, "ROLLOUT_PERCENT %q is not a number", clip(percent))
	}
	s := Settings{
		Percent:           pct,
		Allow:             splitIDs(allow),
		Deny:              splitIDs(deny),
		DisabledMerchants: splitIDs(disabledMerchants),
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

func splitIDs(v string) []string {
	var ids []string
	for _, part := range strings.Split(v, ",") {
		if id := strings.TrimSpace(part); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
