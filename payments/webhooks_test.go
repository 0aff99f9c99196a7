package payments

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStripeSignature(t *testing.T) {
	mac := strings.Repeat("ab", 32)
	cases := []struct {
		header string
		ok     bool
	}{
		{"t=1700000000,v1=" + mac, true},
		{"t=1700000000,v1=" + mac + ",v0=zz,v1=" + mac, true},
		{" t=1700000000 , v1=" + mac, true},
		{"t=1700000000,t=1700000000,v1=" + mac, false},
		{"t=1700000000,v1=" + mac + ",t=1", false},
		{"t=,v1=" + mac, false},
		{"t=-5,v1=" + mac, false},
		{"t=1e9,v1=" + mac, false},
		{"t=1700000000", false},
		{"v1=" + mac, false},
		{"t=1700000000,v1=abc", false},
		{"t=1700000000,v1=" + mac + ",junk", false},
		{"", false},
	}
	for _, c := range cases {
		_, err := ParseStripeSignature(c.header)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.header, err, c.ok)
		}
	}
}

func TestVerifySignatureUsesTheSignedTimestamp(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_700_000_000, 0)
	sign := func(at time.Time) string {
		return "t=" + strconv.FormatInt(at.Unix(), 10) + ",v1=" + hex.EncodeToString(SignStripePayload(body, "whsec_x", at.Unix()))
	}
	if err := verifySignature(body, sign(now.Add(-WebhookTolerance)), "whsec_x", now); err != nil {
		t.Fatalf("at the tolerance: %v", err)
	}
	if err := verifySignature(body, sign(now.Add(-WebhookTolerance-time.Second)), "whsec_x", now); err != errSignatureStale {
		t.Fatalf("past the tolerance: %v", err)
	}
	if err := verifySignature(body, sign(now), "whsec_y", now); err != errSignatureInvalid {
		t.Fatalf("other secret: %v", err)
	}
}

// FuzzStripeSignature: whatever the header, an accepted one names exactly
// one timestamp, and verification never panics.
func FuzzStripeSignature(f *testing.F) {
	mac := strings.Repeat("ab", 32)
	f.Add("t=1700000000,v1=" + mac)
	f.Add("t=1700000000,t=1,v1=" + mac)
	f.Add("t=1,v1=" + mac + ",t=2")
	f.Add(",,=,t==,v1==")
	f.Fuzz(func(t *testing.T, header string) {
		sig, err := ParseStripeSignature(header)
		_ = verifySignature([]byte("{}"), header, "whsec_x", time.Unix(1_700_000_000, 0))
		if err != nil {
			return
		}
		ts := 0
		for _, part := range strings.Split(header, ",") {
			if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
				ts++
			}
		}
		if ts != 1 || len(sig.V1) == 0 {
			t.Fatalf("accepted %q with %d timestamps and %d signatures", header, ts, len(sig.V1))
		}
	})
}
