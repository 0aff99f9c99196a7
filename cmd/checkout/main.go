// Command checkout runs the Buy-button checkout service: its HTTP API, its
// Temporal worker, the local Stripe-protocol sandbox, or all of them at once
// for development.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/buybutton/checkout/config"
)

const usage = `usage: checkout <command> [arguments]

commands:
  dev        run everything locally: Temporal dev server + UI, sandbox, api, worker; seeds a demo shop
  cluster    run the production shape locally: Temporal server on Postgres, 2 api replicas behind haproxy, 2 workers
  api        serve the HTTP API
  worker     run the Temporal worker
  sandbox    serve the local Stripe-protocol sandbox
  migrate    create or update the database schema
  token ID   print a buyer token for buyer ID (signed with BUYER_TOKEN_SECRET)
  keygen     print a new key ring for CHECKOUT_ENCRYPTION_KEYS
  reencrypt  re-seal stored personal data under the active encryption key

Configuration comes from environment variables; see README.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(2)
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	commands := map[string]func(context.Context, config.Config, []string) error{
		"dev":     runDev,
		"api":     runAPI,
		"worker":  runWorker,
		"sandbox": runSandbox,
		"migrate": runMigrate,
		"token":   runToken,
		"keygen":  runKeygen,
		"cluster": runCluster,
	}
	commands["reencrypt"] = runReencrypt
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Args[2:]); err != nil {
		log.Error("checkout stopped", "command", os.Args[1], "err", err)
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
