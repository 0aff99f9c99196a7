package rollout

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/buybutton/checkout/models"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("id-%05d", i)
	}
	return out
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		s       Settings
		wantErr string // substring; "" means valid
	}{
		{"zero", Settings{}, ""},
		{"full", Settings{Percent: 100}, ""},
		{"fraction", Settings{Percent: 0.5}, ""},
		{"lists", Settings{Percent: 5, Allow: []string{"dogfooder"}, Deny: []string{"banned_1"}, DisabledMerchants: []string{"merchant-9"}}, ""},
		{"same id in allow and deny", Settings{Allow: []string{"buyer-1"}, Deny: []string{"buyer-1"}}, ""},
		{"lists at the limit", Settings{Allow: ids(MaxListSize), Deny: ids(MaxListSize), DisabledMerchants: ids(MaxListSize)}, ""},
		{"negative", Settings{Percent: -0.1}, "percent"},
		{"above 100", Settings{Percent: 100.01}, "percent"},
		{"NaN", Settings{Percent: math.NaN()}, "percent"},
		{"+Inf", Settings{Percent: math.Inf(1)}, "percent"},
		{"-Inf", Settings{Percent: math.Inf(-1)}, "percent"},
		{"empty allow id", Settings{Allow: []string{""}}, "allow[0]"},
		{"allow id with space", Settings{Allow: []string{"ok-id", "bad id"}}, "allow[1]"},
		{"deny id too short", Settings{Deny: []string{"abc"}}, "deny[0]"},
		{"merchant id too long", Settings{DisabledMerchants: []string{strings.Repeat("m", 65)}}, "disabled_merchants[0]"},
		{"allow too long", Settings{Allow: ids(MaxListSize + 1)}, "allow has 10001 ids"},
		{"deny too long", Settings{Deny: ids(MaxListSize + 1)}, "deny has 10001 ids"},
		{"merchants too long", Settings{DisabledMerchants: ids(MaxListSize + 1)}, "disabled_merchants has 10001 ids"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.Validate()
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Validate() = %v, want it to mention %q", err, c.wantErr)
			}
			var me *models.Error
			if !errors.As(err, &me) || me.Kind != models.KindInvalid || me.Code != CodeInvalidSettings {
				t.Errorf("Validate() = %#v, want *models.Error kind invalid, code %s", err, CodeInvalidSettings)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Settings{Percent: 200, Allow: []string{"x"}, Deny: []string{"y y"}}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, want := range []string{"percent", "allow[0]", "deny[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, missing %q", err, want)
		}
	}
}

func TestValidateClipsHugeIDs(t *testing.T) {
	err := Settings{Allow: []string{strings.Repeat("x", 100_000)}}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	if n := len(err.Error()); n > 300 {
		t.Errorf("error message is %d bytes; a huge id should be clipped", n)
	}
}
