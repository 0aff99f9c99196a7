package rollout

import "sync/atomic"

// Reasons a Decision can carry. They are stable strings: metrics and logs
// group on them.
const (
	ReasonMerchantDisabled = "merchant_disabled"
	ReasonAnonymous        = "anonymous"
	ReasonDenylist         = "denylist"
	ReasonAllowlist        = "allowlist"
	ReasonInRollout        = "in_rollout"
	ReasonNotInRollout     = "not_in_rollout"
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
}

// snapshot is Settings prepared for lookups. It is never modified after it is
// published, which is what makes lock-free reads safe.
type snapshot struct {
	settings          Settings
	allow             map[string]struct{}
	deny              map[string]struct{}
	disabledMerchants map[string]struct{}
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
	if err := s.Validate(); err != nil {
		return err
	}
	s = s.clone()
	g.snap.Store(&snapshot{
		settings:          s,
		allow:             set(s.Allow),
		deny:              set(s.Deny),
		disabledMerchants: set(s.DisabledMerchants),
	})
	return nil
}

// Allowed decides whether buyerID sees the Buy button on merchantID's posts.
// The merchant switch is checked first because it applies to everyone,
// signed in or not; then the denylist, which must beat the allowlist so a
// dogfooder can be pulled out without editing two lists.
func (g *Gate) Allowed(buyerID, merchantID string) Decision {
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
	if Bucket(buyerID) < snap.settings.Percent {
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
