package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
)

func testRing(t *testing.T) *keyring.Ring {
	t.Helper()
	spec, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	r, err := keyring.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildTrust(t *testing.T) {
	cfg := config.Config{RolloutPercent: "10", RolloutAllow: "buyer_demo", RateLimitBuyer: "5,9", RateLimitIP: "off",
		TemporalUIOrigin: "http://localhost:8233"}
	tr, err := buildTrust(cfg, testRing(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := tr.rollout.Allowed("buyer_demo", "mer_x"); !d.Allowed {
		t.Fatalf("allowlisted buyer refused: %+v", d)
	}
	want := api.RateLimits{IP: api.RateLimit{Off: true}, Buyer: api.RateLimit{PerSecond: 5, Burst: 9},
		Merchant: api.DefaultMerchantRateLimit, StripeWebhookIP: api.DefaultStripeWebhookIPRateLimit}
	if tr.limits != want {
		t.Fatalf("limits %+v, want %+v", tr.limits, want)
	}
	if tr.codec == nil {
		t.Fatal("no codec server")
	}

	for _, bad := range []config.Config{
		{RolloutPercent: "150"},
		{RolloutPercent: "", RolloutAllow: "x"},
		{RolloutPercent: "5", RateLimitMerchant: "fast"},
	} {
		if _, err := buildTrust(bad, testRing(t)); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}

func TestDevTokenIsGeneratedOnceAndKept(t *testing.T) {
	file := filepath.Join(t.TempDir(), devCodecTokenFile)
	if tok, _ := devToken("given", file, "codec_"); tok != "given" {
		t.Fatalf("CODEC_TOKEN not used: %q", tok)
	}
	first, err := devToken("", file, "codec_")
	if err != nil || !strings.HasPrefix(first, "codec_") || len(first) < 40 {
		t.Fatalf("generated %q, %v", first, err)
	}
	again, err := devToken("", file, "codec_")
	if err != nil || again != first {
		t.Fatalf("second run %q, want the kept %q", again, first)
	}
}

func TestWithIDAndCodecEndpoint(t *testing.T) {
	cases := []struct{ list, want string }{
		{"", "buyer_demo"}, {"a", "a,buyer_demo"}, {"a, buyer_demo", "a, buyer_demo"},
	}
	for _, c := range cases {
		if got := withID(c.list, "buyer_demo"); got != c.want {
			t.Fatalf("withID(%q) = %q, want %q", c.list, got, c.want)
		}
	}
	if got := codecEndpoint(":8080", "op/x"); got != "http://localhost:8080/codec/op%2Fx" {
		t.Fatalf("codecEndpoint = %q", got)
	}
}
