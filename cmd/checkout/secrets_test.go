package main

import (
	"context"
	"strings"
	"testing"

	"github.com/buybutton/checkout/config"
)

func strongConfig() config.Config {
	return config.Config{
		BuyerTokenSecret: strings.Repeat("b", 32),
		AdminToken:       strings.Repeat("a", 40),
		CodecToken:       strings.Repeat("c", 40),
		StripeSecretKey:  "sk_test_real",
		StripeWebhookKey: "whsec_" + strings.Repeat("w", 32),
		DatabaseURL:      "postgres://127.0.0.1:1/none",
	}
}

// `checkout api` refuses to start, before touching anything, with a secret
// that is missing, published, short, shared between roles, or the sandbox's.
func TestAPIRefusesUnsafeSecrets(t *testing.T) {
	cases := []struct {
		name, want string
		change     func(*config.Config)
	}{
		{"no buyer secret", "BUYER_TOKEN_SECRET is required", func(c *config.Config) { c.BuyerTokenSecret = "" }},
		{"old dev buyer secret", "BUYER_TOKEN_SECRET is a published", func(c *config.Config) { c.BuyerTokenSecret = "dev-only-buyer-token-secret-change-me" }},
		{"old compose default", "BUYER_TOKEN_SECRET is a published", func(c *config.Config) { c.BuyerTokenSecret = "change-me-in-production" }},
		{"short buyer secret", "BUYER_TOKEN_SECRET must be at least 32", func(c *config.Config) { c.BuyerTokenSecret = strings.Repeat("x", 31) }},
		{"short admin token", "ADMIN_TOKEN must be at least 32", func(c *config.Config) { c.AdminToken = "op_123" }},
		{"short codec token", "CODEC_TOKEN must be at least 32", func(c *config.Config) { c.CodecToken = "codec" }},
		{"one token for both roles", "must differ", func(c *config.Config) { c.CodecToken = c.AdminToken }},
		{"the sandbox's webhook secret", "STRIPE_WEBHOOK_SECRET is a published", func(c *config.Config) { c.StripeWebhookKey = config.SandboxWebhookSecret }},
		{"sandbox payments, no webhook secret of its own", "STRIPE_WEBHOOK_SECRET is a published", func(c *config.Config) {
			c.StripeSecretKey, c.StripeWebhookKey = "", ""
		}},
		{"real Stripe, no webhook secret", "STRIPE_WEBHOOK_SECRET is required", func(c *config.Config) { c.StripeWebhookKey = "" }},
		{"short rotated buyer key", "BUYER_TOKEN_KEYS key k2 must be at least 32", func(c *config.Config) { c.BuyerTokenKeys = "k2=short" }},
		{"malformed buyer keys", "BUYER_TOKEN_KEYS", func(c *config.Config) { c.BuyerTokenKeys = "k2" }},
		{"short webhook secret", "STRIPE_WEBHOOK_SECRET must be at least 32", func(c *config.Config) { c.StripeWebhookKey = "whsec_short" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := strongConfig()
			c.change(&cfg)
			err := runAPI(context.Background(), cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("runAPI: %v, want %q", err, c.want)
			}
		})
	}
	if err := checkProductionSecrets(strongConfig()); err != nil {
		t.Fatalf("strong secrets refused: %v", err)
	}
	keysOnly := strongConfig()
	keysOnly.BuyerTokenSecret, keysOnly.BuyerTokenKeys = "", "k2="+strings.Repeat("k", 32)
	if err := checkProductionSecrets(keysOnly); err != nil {
		t.Fatalf("kid-only buyer keys refused: %v", err)
	}
}

func TestDevListensOnLoopbackByDefault(t *testing.T) {
	var cfg config.Config
	if got := cfg.ListenAddr(true); got != "127.0.0.1:8080" || !isLoopback(got) {
		t.Fatalf("dev listens on %q", got)
	}
	if got := cfg.ListenAddr(false); got != ":8080" || isLoopback(got) {
		t.Fatalf("api listens on %q", got)
	}
	cfg.HTTPAddr = "0.0.0.0:9000"
	if got := cfg.ListenAddr(true); got != "0.0.0.0:9000" || isLoopback(got) {
		t.Fatalf("HTTP_ADDR not honoured: %q", got)
	}
	for addr, want := range map[string]bool{"localhost:1": true, "[::1]:1": true, "127.0.0.2:1": true, ":1": false, "10.0.0.1:1": false} {
		if isLoopback(addr) != want {
			t.Errorf("isLoopback(%q) = %v", addr, !want)
		}
	}
}
