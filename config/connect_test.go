package config

import (
	"strings"
	"testing"
)

func TestFeeSettingsAreCheckedAtStart(t *testing.T) {
	cases := []struct {
		name, bps, fixed, policy string
		wantErr                  string
	}{
		{"defaults", "", "", "", ""},
		{"in range", "500", "30", "keep", ""},
		{"rate above the cap", "5001", "", "", "between 0 and 5000 basis points"},
		{"negative rate", "-1", "", "", "between 0 and 5000 basis points"},
		{"not a number", "2.9%", "", "", `PLATFORM_FEE_BPS: "2.9%" is not a whole number`},
		{"fixed too large", "0", "100001", "", "fixed fee must be between 0 and 100000"},
		{"unknown refund policy", "", "", "half", "REFUND_FEE_POLICY must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PLATFORM_FEE_BPS", c.bps)
			t.Setenv("PLATFORM_FEE_FIXED", c.fixed)
			t.Setenv("REFUND_FEE_POLICY", c.policy)
			cfg, err := FromEnv()
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.bps == "" && cfg.Connect.Fee.BPS != DefaultPlatformFeeBPS {
					t.Fatalf("default rate %d", cfg.Connect.Fee.BPS)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want it to say %q", err, c.wantErr)
			}
		})
	}
}
