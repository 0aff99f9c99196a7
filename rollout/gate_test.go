package rollout

import (
	"fmt"
	"sync"
	"testing"
)

func syntheticIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("buyer-%05d", i)
	}
	return ids
}

func admitted(t *testing.T, g *Gate, ids []string) map[string]bool {
	t.Helper()
	in := map[string]bool{}
	for _, id := range ids {
		if d := g.Allowed(id, "merchant-1"); d.Allowed {
			if d.Reason != ReasonInRollout {
				t.Fatalf("Allowed(%q) reason = %q, want %q", id, d.Reason, ReasonInRollout)
			}
			in[id] = true
		}
	}
	return in
}

func TestRaisingPercentOnlyAddsBuyers(t *testing.T) {
	ids := syntheticIDs(10_000)
	g, err := NewGate(Settings{Percent: 10})
	if err != nil {
		t.Fatal(err)
	}
	at10 := admitted(t, g, ids)
	if n := len(at10); n < 900 || n > 1100 {
		t.Fatalf("at 10%%: %d of 10000 in, want 900..1100", n)
	}

	if err := g.Update(Settings{Percent: 20}); err != nil {
		t.Fatal(err)
	}
	at20 := admitted(t, g, ids)
	for id := range at10 {
		if !at20[id] {
			t.Errorf("%s was in at 10%% but out at 20%%", id)
		}
	}
	if added := len(at20) - len(at10); added < 900 || added > 1100 {
		t.Errorf("raising 10%% → 20%% added %d buyers, want about 1000 (900..1100)", added)
	}
}

func TestPercentEdges(t *testing.T) {
	ids := syntheticIDs(2_000)
	cases := []struct {
		percent float64
		min     int
		max     int
	}{
		{0, 0, 0},
		{0.5, 1, 25}, // about 10 of 2000
		{100, 2_000, 2_000},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.percent), func(t *testing.T) {
			g, err := NewGate(Settings{Percent: c.percent})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(admitted(t, g, ids)); n < c.min || n > c.max {
				t.Errorf("at %v%%: %d of %d in, want %d..%d", c.percent, n, len(ids), c.min, c.max)
			}
		})
	}
}

func TestAllowedPrecedence(t *testing.T) {
	// buyer-00042 is at bucket ~8.6 and alice at ~99.5, so at 50 % the first is
	// in by percentage and the second is out.
	const inByPercent, outByPercent = "buyer-00042", "alice"
	base := Settings{
		Percent:           50,
		Allow:             []string{"dogfooder", "both-lists"},
		Deny:              []string{"banned", "both-lists"},
		DisabledMerchants: []string{"merchant-off"},
	}
	cases := []struct {
		name     string
		buyer    string
		merchant string
		want     Decision
	}{
		{"anonymous", "", "merchant-1", Decision{false, ReasonAnonymous}},
		{"anonymous on disabled merchant", "", "merchant-off", Decision{false, ReasonMerchantDisabled}},
		{"allowlisted though out by percent", "dogfooder", "merchant-1", Decision{true, ReasonAllowlist}},
		{"deny beats allow", "both-lists", "merchant-1", Decision{false, ReasonDenylist}},
		{"denied though in by percent", "banned", "merchant-1", Decision{false, ReasonDenylist}},
		{"disabled merchant beats allow", "dogfooder", "merchant-off", Decision{false, ReasonMerchantDisabled}},
		{"disabled merchant beats deny", "banned", "merchant-off", Decision{false, ReasonMerchantDisabled}},
		{"disabled merchant beats percent", inByPercent, "merchant-off", Decision{false, ReasonMerchantDisabled}},
		{"in by percent", inByPercent, "merchant-1", Decision{true, ReasonInRollout}},
		{"out by percent", outByPercent, "merchant-1", Decision{false, ReasonNotInRollout}},
		{"empty merchant is not disabled", inByPercent, "", Decision{true, ReasonInRollout}},
		{"ids match exactly, not by case", "DOGFOODER", "merchant-1", Decision{Bucket("DOGFOODER") < 50, reasonByPercent("DOGFOODER", 50)}},
	}
	g, err := NewGate(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := g.Allowed(c.buyer, c.merchant); got != c.want {
				t.Errorf("Allowed(%q, %q) = %+v, want %+v", c.buyer, c.merchant, got, c.want)
			}
		})
	}
}

func reasonByPercent(id string, percent float64) string {
	if Bucket(id) < percent {
		return ReasonInRollout
	}
	return ReasonNotInRollout
}

func TestZeroGateLetsNobodyIn(t *testing.T) {
	var g Gate
	if d := g.Allowed("buyer-00042", "merchant-1"); d != (Decision{false, ReasonNotInRollout}) {
		t.Errorf("zero gate: %+v", d)
	}
	if s := g.Settings(); s.Percent != 0 || s.Allow != nil {
		t.Errorf("zero gate settings: %+v", s)
	}
}

func TestNewGateRejectsInvalidSettings(t *testing.T) {
	if g, err := NewGate(Settings{Percent: 101}); err == nil {
		t.Fatalf("NewGate accepted percent 101: %+v", g.Settings())
	}
}

func TestUpdateRefusesInvalidAndKeepsPrevious(t *testing.T) {
	g, err := NewGate(Settings{Percent: 10, Allow: []string{"dogfooder"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Update(Settings{Percent: 100, Allow: []string{"bad id"}}); err == nil {
		t.Fatal("Update accepted an invalid allowlist")
	}
	if s := g.Settings(); s.Percent != 10 || len(s.Allow) != 1 || s.Allow[0] != "dogfooder" {
		t.Errorf("settings after refused update = %+v, want the previous ones", s)
	}
}

func TestSettingsAreCopied(t *testing.T) {
	allow := []string{"dogfooder"}
	g, err := NewGate(Settings{Percent: 0, Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	allow[0] = "intruder" // the caller reusing its slice must not change the gate
	got := g.Settings()
	got.Allow[0] = "intruder2" // nor may a reader writing into what it was given
	if d := g.Allowed("dogfooder", "merchant-1"); !d.Allowed {
		t.Errorf("dogfooder lost access after callers mutated their slices: %+v", d)
	}
	if s := g.Settings(); s.Allow[0] != "dogfooder" {
		t.Errorf("Settings().Allow = %v, want [dogfooder]", s.Allow)
	}
}

// Readers racing with writers must always see one whole snapshot: the two
// settings below flip every answer, so a mix of old and new would show up as
// an impossible decision or an impossible Settings value.
func TestConcurrentUpdateAndAllowed(t *testing.T) {
	closed := Settings{Percent: 0, Allow: []string{"dogfooder"}}
	open := Settings{Percent: 100, Deny: []string{"dogfooder"}}
	g, err := NewGate(closed)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := closed
				if (i+w)%2 == 0 {
					s = open
				}
				if err := g.Update(s); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	errs := make(chan string, 8)
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for range 5_000 {
				switch d := g.Allowed("dogfooder", "merchant-1"); d {
				case Decision{true, ReasonAllowlist}, Decision{false, ReasonDenylist}:
				default:
					errs <- fmt.Sprintf("dogfooder: impossible decision %+v", d)
					return
				}
				switch d := g.Allowed("buyer-00042", "merchant-1"); d {
				case Decision{false, ReasonNotInRollout}, Decision{true, ReasonInRollout}:
				default:
					errs <- fmt.Sprintf("buyer-00042: impossible decision %+v", d)
					return
				}
				s := g.Settings()
				if (s.Percent == 0) != (len(s.Allow) == 1 && len(s.Deny) == 0) {
					errs <- fmt.Sprintf("torn settings %+v", s)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
