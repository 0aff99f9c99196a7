package api

import (
	"sync"
	"time"
)

// acceptingRecheck is how long a merchant seen able to take charges is
// trusted without reading its connected account again: the bound on how
// late another replica's purchase check learns of a disconnected or
// restricted account (ROLLOUT_REFRESH's default, the bound operators
// already have for a merchant disabled in the rollout).
const acceptingRecheck = 2 * time.Second

// acceptingMax bounds the merchants remembered; past it, the expired ones
// are dropped, and if none is, nothing new is remembered until one is.
const acceptingMax = 10_000

// acceptingMerchants remembers the merchants whose connected account was
// read able to take charges, each until acceptingRecheck after the read.
// Only the good answer is remembered: a refused merchant is read on every
// purchase, so a merchant that finishes onboarding sells at once. The zero
// value is ready to use.
type acceptingMerchants struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// recent reports whether merchantID was read able to take charges less
// than acceptingRecheck before now.
func (m *acceptingMerchants) recent(merchantID string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return now.Before(m.until[merchantID])
}

// remember records that merchantID was read able to take charges at now.
func (m *acceptingMerchants) remember(merchantID string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.until == nil {
		m.until = map[string]time.Time{}
	}
	if _, known := m.until[merchantID]; !known && len(m.until) >= acceptingMax {
		for id, t := range m.until {
			if !now.Before(t) {
				delete(m.until, id)
			}
		}
		if len(m.until) >= acceptingMax {
			return
		}
	}
	m.until[merchantID] = now.Add(acceptingRecheck)
}

// forget drops merchantID, whose account has just changed: the next
// purchase reads it.
func (m *acceptingMerchants) forget(merchantID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.until, merchantID)
}
