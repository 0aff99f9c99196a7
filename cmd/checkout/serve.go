package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/worker"
)

func runAPI(ctx context.Context, cfg config.Config, _ []string) error {
	if err := checkProductionSecrets(cfg); err != nil {
		return err
	}
	tokens, err := buyerTokenPolicy(cfg)
	if err != nil {
		return err
	}
	cfg.HTTPAddr = cfg.ListenAddr(false)
	b, err := openBackends(ctx, cfg, "", checkSchema)
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
	g, ctx := errgroup.WithContext(ctx)
	if err := followRollout(ctx, g, cfg, trust.rollout, b.store); err != nil {
		return err
	}
	g.Go(func() error { return serveMetrics(ctx, cfg.MetricsAddr) })
	g.Go(func() error {
		return serveHTTP(ctx, cfg.HTTPAddr, newAPI(cfg, b.store, b.temporal, tokens, trust, site, nil))
	})
	return g.Wait()
}

func runWorker(ctx context.Context, cfg config.Config, _ []string) error {
	b, err := openBackends(ctx, cfg, "", checkSchema)
	if err != nil {
		return err
	}
	defer b.Close()
	w, err := worker.New(b.temporal, cfg.TaskQueue, newActivities(cfg, b.store),
		worker.Options{DeploymentName: cfg.WorkerDeployment, BuildID: cfg.WorkerBuildID, Metrics: processMetrics().Temporal})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	slog.Info("worker polling", "task_queue", cfg.TaskQueue, "stripe", stripeTarget(cfg),
		"deployment", cfg.WorkerDeployment, "build_id", cfg.WorkerBuildID)
	err = serveMetrics(ctx, cfg.MetricsAddr)
	// SIGTERM: stop polling, let running activities finish (at most
	// worker.StopTimeout), hand back what is left to other workers.
	stopping := time.Now()
	slog.Info("worker stopping", "bound", worker.StopTimeout)
	w.Stop()
	slog.Info("worker stopped", "took", time.Since(stopping).Round(time.Millisecond))
	return err
}

func runMigrate(ctx context.Context, cfg config.Config, _ []string) error {
	ring, err := loadKeyRing(cfg, "")
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, ring, applyMigrations)
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		st.Close()
		return err
	}
	slog.Info("database schema is up to date", "version", v)
	return st.Close()
}

// runToken mints a buyer token: with BUYER_TOKEN_SECRET and no kid, or with
// the BUYER_TOKEN_KEYS key named by a second argument; in development with
// the secret `checkout dev` generated.
func runToken(_ context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 && len(args) != 2 {
		return errors.New("usage: checkout token BUYER_ID [KEY_ID]")
	}
	claims := api.BuyerTokenClaims{BuyerID: args[0], Issuer: cfg.BuyerTokenIssuer, Audience: cfg.BuyerTokenAud,
		MaxLifetime: cfg.BuyerTokenMaxLife}
	claims.TTL = claims.MaxLifetime
	if claims.TTL == 0 {
		claims.TTL = api.DefaultBuyerTokenMaxLifetime
	}
	secret := cfg.BuyerTokenSecret
	if len(args) == 2 {
		keys, err := api.ParseBuyerTokenKeys(cfg.BuyerTokenKeys)
		if err != nil {
			return fmt.Errorf("BUYER_TOKEN_KEYS: %w", err)
		}
		if secret = string(keys[args[1]]); secret == "" {
			return fmt.Errorf("BUYER_TOKEN_KEYS has no key %q", args[1])
		}
		claims.KeyID = args[1]
	}
	if secret == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, devBuyerSecretFile))
		if err != nil {
			return errors.New("BUYER_TOKEN_SECRET is unset and no `checkout dev` secret was found in data/")
		}
		secret = strings.TrimSpace(string(b))
	}
	tok, err := api.MintBuyerTokenWith([]byte(secret), claims)
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
