package main

import (
	"context"
	"log/slog"

	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/sandbox"
)

// runSandbox serves the Stripe-protocol sandbox on SANDBOX_ADDR. Webhooks go
// to SANDBOX_WEBHOOK_URL when set, signed with the sandbox's webhook secret.
func runSandbox(ctx context.Context, cfg config.Config, _ []string) error {
	sb := newSandbox(cfg, envOr("SANDBOX_WEBHOOK_URL", ""))
	if u := envOr("SANDBOX_CONNECT_WEBHOOK_URL", ""); u != "" {
		sb.ConnectWebhooks(u, cfg.ConnectWebhookSecret())
	}
	defer sb.Close()
	slog.Info("stripe sandbox listening", "addr", cfg.SandboxAddr, "key", config.SandboxSecretKey)
	return serveHTTP(ctx, cfg.SandboxAddr, sb)
}

func newSandbox(cfg config.Config, webhookURL string) *sandbox.Server {
	return sandbox.New(sandbox.Options{
		WebhookURL:    webhookURL,
		WebhookSecret: cfg.WebhookSecret(),
		Logger:        slog.Default().With("component", "sandbox"),
	})
}
