package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/web"
)

// backends are what the long-running commands share: the key ring, the
// store (its schema checked or migrated) and a Temporal client that speaks through the payload codec.
type backends struct {
	ring     *keyring.Ring
	store    *store.Store
	temporal client.Client
}

// openBackends opens all three; devKeyFile is where `checkout dev` keeps a
// generated key ring ("" elsewhere: the ring must be configured). schema
// says whether the store's migrations are applied or only checked.
func openBackends(ctx context.Context, cfg config.Config, devKeyFile string, schema schemaMode) (*backends, error) {
	ring, err := loadKeyRing(cfg, devKeyFile)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, ring, schema)
	if err != nil {
		return nil, err
	}
	tc, err := dialTemporal(ctx, cfg, ring)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &backends{ring: ring, store: st, temporal: tc}, nil
}

func (b *backends) Close() {
	b.temporal.Close()
	b.store.Close()
}

// schemaMode is what a command does with the database schema at start.
type schemaMode int

const (
	// checkSchema refuses a schema older than the code needs (api, worker:
	// `checkout migrate` applies migrations once per deploy).
	checkSchema schemaMode = iota
	// applyMigrations applies pending migrations (`checkout migrate`, and
	// `checkout dev`, which is its own deploy).
	applyMigrations
)

func openStore(ctx context.Context, cfg config.Config, ring *keyring.Ring, schema schemaMode) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, ring)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if schema == applyMigrations {
		err = st.Migrate(ctx)
	} else {
		err = st.CheckSchema(ctx)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("database schema: %w", err)
	}
	return st, nil
}

// dialTemporal connects with the payload codec installed, so every workflow
// input, result, update, query and failure is stored encrypted in Temporal.
func dialTemporal(ctx context.Context, cfg config.Config, ring *keyring.Ring) (client.Client, error) {
	dc, fc := codec.ClientOptions(ring)
	c, err := client.DialContext(ctx, client.Options{
		HostPort:         cfg.TemporalAddress,
		Namespace:        cfg.TemporalNamespace,
		Logger:           tlog.NewStructuredLogger(slog.Default().With("component", "temporal")),
		DataConverter:    dc,
		FailureConverter: fc,
		MetricsHandler:   processMetrics().Temporal,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// loadKeyRing parses CHECKOUT_ENCRYPTION_KEYS. In development an unset ring
// is generated once and kept in data/, so restarts can still read old data.
func loadKeyRing(cfg config.Config, devKeyFile string) (*keyring.Ring, error) {
	spec := cfg.EncryptionKeys
	if spec == "" && devKeyFile != "" {
		if b, err := os.ReadFile(devKeyFile); err == nil {
			spec = strings.TrimSpace(string(b))
		} else {
			if spec, err = keyring.Generate(); err != nil {
				return nil, err
			}
			if err := os.WriteFile(devKeyFile, []byte(spec+"\n"), 0o600); err != nil {
				return nil, err
			}
			slog.Warn("CHECKOUT_ENCRYPTION_KEYS is unset: generated a development key ring", "file", devKeyFile)
		}
	}
	if spec == "" {
		return nil, errors.New("CHECKOUT_ENCRYPTION_KEYS is required (see README, Security)")
	}
	ring, err := keyring.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("CHECKOUT_ENCRYPTION_KEYS: %w", err)
	}
	return ring, nil
}

// webhookURLs is which merchant webhook URLs are accepted and delivered to:
// https and public addresses, unless the configuration allows private
// networks; plain http in development only.
func webhookURLs(cfg config.Config) notify.URLPolicy {
	return notify.URLPolicy{AllowPrivate: cfg.WebhookPrivateNetworks, AllowHTTP: cfg.Development}
}

func newNotifier(cfg config.Config) *notify.Sender {
	s := notify.NewSender(10 * time.Second)
	if cfg.WebhookPrivateNetworks {
		s = notify.NewLocalSender(10 * time.Second)
	}
	s.URLs = webhookURLs(cfg)
	return s
}

func newActivities(cfg config.Config, st *store.Store) *activities.Activities {
	return &activities.Activities{
		Store: st,
		Payments: payments.New(payments.Config{
			SecretKey: cfg.StripeKey(),
			APIBase:   cfg.StripeBase(),
		}),
		Notifier:   newNotifier(cfg),
		Logger:     slog.Default(),
		Deliveries: st,

		MaxOpenUnpaidPerBuyer: cfg.MaxOpenUnpaidPerBuyer,
		Connect:               activities.Connect{Fee: cfg.Connect.Fee, RefundFee: cfg.Connect.RefundFee},
	}
}

// newSite builds the Buy button's pages from the configuration.
func newSite(cfg config.Config) (*web.Site, error) {
	return web.New(web.Options{
		AllowedOrigins:  cfg.EmbedAllowedOrigins,
		StripeJSURL:     cfg.StripeJS(),
		StripeAPIOrigin: cfg.StripeAPIOrigin(),
		PublishableKey:  cfg.PublishableKey(),
	})
}

// buyerTokenPolicy is what buyer tokens must satisfy, from the settings.
func buyerTokenPolicy(cfg config.Config) (api.BuyerTokenPolicy, error) {
	keys, err := api.ParseBuyerTokenKeys(cfg.BuyerTokenKeys)
	if err != nil {
		return api.BuyerTokenPolicy{}, fmt.Errorf("BUYER_TOKEN_KEYS: %w", err)
	}
	p := api.BuyerTokenPolicy{Keys: keys, Issuer: cfg.BuyerTokenIssuer, Audience: cfg.BuyerTokenAud, MaxLifetime: cfg.BuyerTokenMaxLife}
	if cfg.BuyerTokenSecret != "" {
		p.Secret = []byte(cfg.BuyerTokenSecret)
	}
	return p, nil
}

func newAPI(cfg config.Config, st *store.Store, tc client.Client, tokens api.BuyerTokenPolicy, trust apiTrust, site *web.Site, demo *web.Demo) http.Handler {
	return api.New(api.Config{
		Web:                  site,
		Demo:                 demo,
		Store:                st,
		Temporal:             tc,
		TaskQueue:            cfg.TaskQueue,
		BuyerTokens:          tokens,
		AcceptTimeout:        cfg.AcceptTimeout,
		PaymentActionTimeout: cfg.PaymentActionTimeout,
		ShipBy:               cfg.ShipBy,
		AutoCompleteAfter:    cfg.AutoCompleteAfter,
		PayWait:              cfg.PayWait,
		Logger:               slog.Default(),
		AdminToken:           cfg.AdminToken,
		Registry:             processMetrics().Registry,
		Rollout:              trust.rollout,
		RolloutStore:         st,
		TrustedProxies:       cfg.TrustedProxies,
		RateLimits:           trust.limits,
		Codec:                trust.codec,

		// Stripe's webhooks (the sandbox's in development) are verified with it.
		StripeWebhookSecret: cfg.WebhookSecret(),
		Connect: api.Connect{
			Gateway:       payments.New(payments.Config{SecretKey: cfg.StripeKey(), APIBase: cfg.StripeBase()}),
			RefreshURL:    cfg.Connect.RefreshURL,
			ReturnURL:     cfg.Connect.ReturnURL,
			WebhookSecret: cfg.ConnectWebhookSecret(),
		},
	})
}

// followRollout puts the stored rollout settings in force now (they win
// over ROLLOUT_* once an admin has saved any) and keeps following them.
func followRollout(ctx context.Context, g *errgroup.Group, cfg config.Config, gate *rollout.Gate, st *store.Store) error {
	load := func(ctx context.Context) (rollout.Settings, int64, bool, error) { return api.LoadRollout(ctx, st) }
	if err := rollout.Refresh(ctx, gate, load); err != nil {
		return fmt.Errorf("read rollout settings: %w", err)
	}
	g.Go(func() error {
		rollout.Follow(ctx, gate, load, cfg.RolloutRefresh, func(err error) {
			slog.Warn("rollout settings not refreshed; the last ones stay in force", "err", err)
		})
		return nil
	})
	return nil
}

// serveHTTP serves h until ctx ends, then drains in-flight requests.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
