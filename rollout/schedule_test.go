package rollout

import (
	"fmt"
	"testing"
	"time"
)

func TestScheduleRampsAndPauses(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := Settings{Percent: 1, Schedule: []Step{{At: t0, Percent: 5}, {At: t0.Add(24 * time.Hour), Percent: 25}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want float64
	}{
		{t0.Add(-time.Second), 1}, {t0, 5}, {t0.Add(23 * time.Hour), 5}, {t0.Add(24 * time.Hour), 25}, {t0.Add(1000 * time.Hour), 25},
	} {
		if got := s.PercentAt(c.at); got != c.want {
			t.Errorf("PercentAt(%s) = %v, want %v", c.at, got, c.want)
		}
	}
	s.Paused = true
	if got := s.PercentAt(t0.Add(48 * time.Hour)); got != 1 {
		t.Errorf("paused PercentAt = %v, want the held percent 1", got)
	}
}

// TestScheduleMembershipMonotonic: every buyer admitted at one step is still
// admitted at every later one.
func TestScheduleMembershipMonotonic(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	g, err := NewGate(Settings{Percent: 0, Schedule: []Step{{At: t0, Percent: 1}, {At: t0.Add(time.Hour), Percent: 10}, {At: t0.Add(2 * time.Hour), Percent: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	g.Now = func() time.Time { return now }
	in := map[string]bool{}
	counts := []int{}
	for step := 0; step < 3; step++ {
		now = t0.Add(time.Duration(step) * time.Hour)
		n := 0
		for i := 0; i < 5000; i++ {
			id := fmt.Sprintf("buyer_%d", i)
			ok := g.Allowed(id, "m").Allowed
			if in[id] && !ok {
				t.Fatalf("%s left the rollout at step %d", id, step)
			}
			if ok {
				in[id] = true
				n++
			}
		}
		counts = append(counts, n)
	}
	if !(counts[0] > 0 && counts[0] < counts[1] && counts[1] < counts[2]) {
		t.Errorf("admitted %v of 5000 at 1%%, 10%%, 50%%: want strictly growing", counts)
	}
}

func TestScheduleValidation(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for name, s := range map[string]Settings{
		"shrinking":    {Percent: 10, Schedule: []Step{{At: t0, Percent: 5}}},
		"out of order": {Schedule: []Step{{At: t0, Percent: 5}, {At: t0, Percent: 6}}},
		"no time":      {Schedule: []Step{{Percent: 5}}},
		"above 100":    {Schedule: []Step{{At: t0, Percent: 101}}},
		"bad country":  {Countries: []string{"nz"}},
		"long country": {Countries: []string{"NZL"}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: %+v validated", name, s)
		}
	}
}

func TestCountriesRule(t *testing.T) {
	g, err := NewGate(Settings{Percent: 100, Countries: []string{"NZ"}, Allow: []string{"dogfood"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		buyer, country string
		want           Decision
	}{
		{"b1", "NZ", Decision{true, ReasonInRollout}},
		{"b1", "GB", Decision{false, ReasonCountry}},
		{"b1", "", Decision{false, ReasonCountry}},
		{"dogfood", "GB", Decision{true, ReasonAllowlist}},
	} {
		if got := g.AllowedIn(c.buyer, c.country, "m"); got != c.want {
			t.Errorf("AllowedIn(%s, %q) = %+v, want %+v", c.buyer, c.country, got, c.want)
		}
	}
}
