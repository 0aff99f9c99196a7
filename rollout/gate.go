package rollout

import (
	"sync/atomic"
	"time"
)

// Reasons a Decision can carry. They are stable strings: metrics and logs
// group on them.
const (
	ReasonMerchantDisabled = "merchant_disabled"
	ReasonAnonymous        = "anonymous"
	ReasonDenylist         = "denylist"
	ReasonAllowlist        = "allowlist"
	ReasonInRollout        = "in_rollout"
	ReasonNotInRollout     = "not_in_rollout"
	ReasonCountry          = "country_not_in_rollout"
)

// Decision says whether a buyer may buy from a merchant, and why, so support
// can answer "why don't I see the button?" without reading code.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Gate answers rollout questions against settings that can be replaced while
// the service runs. Readers never block: each call sees one whole snapshot,
// never a mix of an old allowlist and a new percentage.
//
// The zero Gate lets nobody in, so a forgotten constructor fails closed.
type Gate struct {
	snap atomic.Pointer[snapshot]
	// Now is the clock the ramp schedule is read against (time.Now when nil).
	Now func() time.Time
}

// snapshot is Settings prepared for lookups. It is never modified after it is
// published, which is what makes lock-free reads safe.
type snapshot struct {
	settings          Settings
	allow             map[string]struct{}
	deny              map[string]struct{}
	disabledMerchants map[string]struct{}
	countries         map[string]struct{}
	version           int64
}

// NewGate validates s and returns a gate using it.
func NewGate(s Settings) (*Gate, error) {
	g := &Gate{}
	if err := g.Update(s); err != nil {
		return nil, err
	}
	return g, nil
}

// Settings returns a copy of the settings in force.
func (g *Gate) Settings() Settings {
	snap := g.snap.Load()
	if snap == nil {
		return Settings{}
	}
	return snap.settings.clone()
}

// Update replaces the settings in force. Invalid settings are refused and the
// previous ones stay, so a bad push cannot open the button to everyone or
// close it for everyone by accident.
func (g *Gate) Update(s Settings) error {
	return g.UpdateVersion(s, 0)
}

// UpdateVersion is Update for settings read from the store at version v:
// an older version than the one in force is ignored (a slow read must not
// undo a newer change).
func (g *Gate) UpdateVersion(s Settings, v int64) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if cur := g.snap.Load(); cur != nil && v != 0 && v < cur.version {
		return nil
	}
	s = s.clone()
	g.snap.Store(&snapshot{
		settings:          s,
		allow:             set(s.Allow),
		deny:              set(s.Deny),
		disabledMerchants: set(s.DisabledMerchants),
		countries:         set(s.Countries),
		version:           v,
	})
	return nil
}

// Version is the store version of the settings in force (0: from the
// environment, never stored).
func (g *Gate) Version() int64 {
	if snap := g.snap.Load(); snap != nil {
		return snap.version
	}
	return 0
}

// Allowed decides whether buyerID sees the Buy button on merchantID's posts.
// The merchant switch is checked first because it applies to everyone,
// signed in or not; then the denylist, which must beat the allowlist so a
// dogfooder can be pulled out without editing two lists.
func (g *Gate) Allowed(buyerID, merchantID string) Decision {
	return g.AllowedIn(buyerID, "", merchantID)
}

// AllowedIn is Allowed for a buyer whose token claims country ("" for
// none); a countries rule admits only the countries it lists.
func (g *Gate) AllowedIn(buyerID, country, merchantID string) Decision {
	snap := g.snap.Load()
	if snap == nil {
		snap = &snapshot{}
	}
	if has(snap.disabledMerchants, merchantID) {
		return Decision{Allowed: false, Reason: ReasonMerchantDisabled}
	}
	if buyerID == "" {
		return Decision{Allowed: false, Reason: ReasonAnonymous}
	}
	if has(snap.deny, buyerID) {
		return Decision{Allowed: false, Reason: ReasonDenylist}
	}
	if has(snap.allow, buyerID) {
		return Decision{Allowed: true, Reason: ReasonAllowlist}
	}
	if len(snap.countries) > 0 && !has(snap.countries, country) {
		return Decision{Allowed: false, Reason: ReasonCountry}
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	if Bucket(buyerID) < snap.settings.PercentAt(now()) {
		return Decision{Allowed: true, Reason: ReasonInRollout}
	}
	return Decision{Allowed: false, Reason: ReasonNotInRollout}
}

func set(ids []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

func has(m map[string]struct{}, id string) bool {
	_, ok := m[id]
	return ok
}
