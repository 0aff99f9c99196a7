package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
)

// devBuyerTokenSecret signs buyer tokens when BUYER_TOKEN_SECRET is unset in
// `checkout dev`; the other commands refuse to run without a real secret.
const devBuyerTokenSecret = "dev-only-buyer-token-secret-change-me"

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return st, nil
}

func dialTemporal(ctx context.Context, cfg config.Config) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    tlog.NewStructuredLogger(slog.Default().With("component", "temporal")),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

func newActivities(cfg config.Config, st *store.Store) *activities.Activities {
	return &activities.Activities{
		Store: st,
		Payments: payments.New(payments.Config{
			SecretKey: cfg.StripeKey(),
			APIBase:   cfg.StripeBase(),
		}),
		Notifier: notify.NewSender(10 * time.Second),
		Logger:   slog.Default(),
	}
}

func newAPI(cfg config.Config, st *store.Store, tc client.Client, secret string) http.Handler {
	return api.New(api.Config{
		Store:            st,
		Temporal:         tc,
		TaskQueue:        cfg.TaskQueue,
		BuyerTokenSecret: []byte(secret),
		AcceptTimeout:    cfg.AcceptTimeout,
		PayWait:          cfg.PayWait,
		Logger:           slog.Default(),
	})
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
