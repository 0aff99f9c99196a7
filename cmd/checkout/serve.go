package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/worker"
)

func runAPI(ctx context.Context, cfg config.Config, _ []string) error {
	if cfg.BuyerTokenSecret == "" {
		return errors.New("BUYER_TOKEN_SECRET is required (use `checkout dev` for a development setup)")
	}
	b, err := openBackends(ctx, cfg, "")
	if err != nil {
		return err
	}
	defer b.Close()
	trust, err := buildTrust(cfg, b.ring)
	if err != nil {
		return err
	}
	site, err := newSite(cfg)
	if err != nil {
		return err
	}
	slog.Info("api listening", "addr", cfg.HTTPAddr)
	return serveHTTP(ctx, cfg.HTTPAddr, newAPI(cfg, b.store, b.temporal, cfg.BuyerTokenSecret, trust, site, nil))
}

func runWorker(ctx context.Context, cfg config.Config, _ []string) error {
	b, err := openBackends(ctx, cfg, "")
	if err != nil {
		return err
	}
	defer b.Close()
	w := worker.New(b.temporal, cfg.TaskQueue, newActivities(cfg, b.store), worker.Options{})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	slog.Info("worker polling", "task_queue", cfg.TaskQueue, "stripe", stripeTarget(cfg))
	err = serveWorkerMetrics(ctx, cfg.MetricsAddr)
	w.Stop() // hands back what it cannot finish within WorkerStopTimeout
	return err
}

func runMigrate(ctx context.Context, cfg config.Config, _ []string) error {
	ring, err := loadKeyRing(cfg, "")
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, ring)
	if err != nil {
		return err
	}
	slog.Info("database schema is up to date")
	return st.Close()
}

func runToken(_ context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: checkout token BUYER_ID")
	}
	secret := cfg.BuyerTokenSecret
	if secret == "" {
		secret = devBuyerTokenSecret
	}
	tok, err := api.MintBuyerToken([]byte(secret), args[0], 30*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func stripeTarget(cfg config.Config) string {
	if cfg.UsesSandbox() {
		return "sandbox " + cfg.StripeBase()
	}
	if cfg.StripeAPIBase != "" {
		return cfg.StripeAPIBase
	}
	return "api.stripe.com"
}

// runKeygen prints a fresh key ring spec for CHECKOUT_ENCRYPTION_KEYS.
func runKeygen(context.Context, config.Config, []string) error {
	spec, err := keyring.Generate()
	if err != nil {
		return err
	}
	fmt.Println(spec)
	return nil
}
