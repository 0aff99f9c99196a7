package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/web"
	"github.com/buybutton/checkout/worker"
)

const (
	dataDir       = "data"
	devUIPort     = 8233
	demoBuyerID   = "buyer_demo"
	devSeedFile   = "dev-seed.json"
	devDBFile     = "checkout.db"
	devTemporalDB = "temporal.db"
	devKeyFile    = "dev-encryption-keys"
	// devBuyerSecretFile keeps the generated buyer-token secret of `checkout
	// dev`, which `checkout token` reads when BUYER_TOKEN_SECRET is unset.
	devBuyerSecretFile = "dev-buyer-token-secret"
)

// devSeed is the demo shop, remembered across restarts because the merchant
// key is stored hashed and cannot be shown again.
type devSeed struct {
	MerchantID  string `json:"merchant_id"`
	MerchantKey string `json:"merchant_key"`
	ProductID   string `json:"product_id"`
}

// runDev runs the whole product on one machine with embedded defaults: a
// Temporal dev server with UI (state in data/temporal.db), the Stripe
// sandbox, SQLite in data/checkout.db, the worker and the API.
func runDev(ctx context.Context, cfg config.Config, _ []string) error {
	started := time.Now()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite://" + filepath.Join(dataDir, devDBFile)
	}
	cfg.HTTPAddr = cfg.ListenAddr(true)
	if cfg.MetricsAddr == "" {
		cfg.MetricsAddr = config.DefaultDevMetricsAddr
	}
	if !isLoopback(cfg.HTTPAddr) {
		slog.Warn("checkout dev listens beyond this machine: anyone who can reach it can use the development tokens and forge sandbox webhooks",
			"addr", cfg.HTTPAddr)
	}
	var err error
	if cfg.BuyerTokenSecret, err = devToken(cfg.BuyerTokenSecret, filepath.Join(dataDir, devBuyerSecretFile), "devbuyer_"); err != nil {
		return err
	}
	if cfg.AdminToken, err = devToken(cfg.AdminToken, filepath.Join(dataDir, devAdminTokenFile), "adm_"); err != nil {
		return err
	}
	// The codec token is the one Temporal UI is given: it can decode and
	// nothing else, and the dev server only listens on loopback.
	if cfg.CodecToken, err = devToken(cfg.CodecToken, filepath.Join(dataDir, devCodecTokenFile), "codec_"); err != nil {
		return err
	}
	if cfg.AdminToken == cfg.CodecToken {
		return errors.New("ADMIN_TOKEN and CODEC_TOKEN must differ: Temporal UI is given the codec token")
	}
	// Merchants under development listen on localhost, over plain http.
	cfg.WebhookPrivateNetworks, cfg.Development = true, true
	// The printed demo purchase must work whatever ROLLOUT_PERCENT says.
	cfg.RolloutAllow = withID(cfg.RolloutAllow, demoBuyerID)
	cfg.TemporalUIOrigin = withID(cfg.TemporalUIOrigin, fmt.Sprintf("http://127.0.0.1:%d", devUIPort))
	uiCodec := codecEndpoint(cfg.HTTPAddr, cfg.CodecToken)

	var temporal *devServer
	if reachable(cfg.TemporalAddress) {
		slog.Info("using the Temporal server already running", "addr", cfg.TemporalAddress)
	} else {
		cli, err := findTemporalCLI()
		if err != nil {
			return err
		}
		args, err := devServerArgs(filepath.Join(dataDir, devTemporalDB), cfg.TemporalAddress, devUIPort, uiCodec)
		if err != nil {
			return err
		}
		if temporal, err = startDevServer(ctx, cli, args, filepath.Join(dataDir, "temporal.log")); err != nil {
			return err
		}
		defer temporal.Stop()
		if err := waitReachable(ctx, cfg.TemporalAddress, 60*time.Second); err != nil {
			return fmt.Errorf("temporal dev server: %w (see data/temporal.log)", err)
		}
	}

	b, err := openBackends(ctx, cfg, filepath.Join(dataDir, devKeyFile), applyMigrations)
	if err != nil {
		return err
	}
	defer b.Close()
	st, tc := b.store, b.temporal

	seed, err := seedDemoShop(ctx, st, filepath.Join(dataDir, devSeedFile))
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	if cfg.UsesSandbox() {
		// The sandbox tells the API about the payments it settles (3-D
		// Secure, refunds) through signed webhooks, as Stripe does.
		sb := newSandbox(cfg, "http://"+localAddr(cfg.HTTPAddr)+"/v1/webhooks/stripe")
		sb.ConnectWebhooks("http://"+localAddr(cfg.HTTPAddr)+"/v1/webhooks/stripe/connect", cfg.ConnectWebhookSecret())
		defer sb.Close()
		g.Go(func() error { return serveHTTP(ctx, cfg.SandboxAddr, sb) })
	}
	w, err := worker.New(tc, cfg.TaskQueue, newActivities(cfg, st), worker.Options{Metrics: processMetrics().Temporal})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	trust, err := buildTrust(cfg, b.ring)
	if err != nil {
		return err
	}
	tokens, err := buyerTokenPolicy(cfg)
	if err != nil {
		return err
	}
	if tokens.MaxLifetime == 0 {
		tokens.MaxLifetime = api.DefaultBuyerTokenMaxLifetime
	}
	token, err := api.MintBuyerTokenWith([]byte(cfg.BuyerTokenSecret), api.BuyerTokenClaims{BuyerID: demoBuyerID,
		TTL: tokens.MaxLifetime, Issuer: cfg.BuyerTokenIssuer, Audience: cfg.BuyerTokenAud, MaxLifetime: tokens.MaxLifetime})
	if err != nil {
		return err
	}
	site, err := newSite(cfg)
	if err != nil {
		return err
	}
	if err := followRollout(ctx, g, cfg, trust.rollout, st); err != nil {
		return err
	}
	demo := &web.Demo{ProductID: seed.ProductID, BuyerToken: token}
	g.Go(func() error { return serveHTTP(ctx, cfg.HTTPAddr, newAPI(cfg, st, tc, tokens, trust, site, demo)) })
	g.Go(func() error { return serveMetrics(ctx, cfg.MetricsAddr) })

	if err := waitReachable(ctx, localAddr(cfg.HTTPAddr), 10*time.Second); err != nil {
		return err
	}
	accountID, link, err := onboardDemoMerchant(ctx, cfg, st, seed, "http://"+localAddr(cfg.HTTPAddr), cfg.StripeBase())
	if err != nil {
		return err
	}
	base := "http://" + localAddr(cfg.HTTPAddr)
	printBanner(banner{
		Opening: "Open " + base + "/demo and tap Buy", API: base,
		TemporalUI: fmt.Sprintf("http://localhost:%d", devUIPort), Stripe: stripeTarget(cfg),
		Metrics: "http://" + localAddr(cfg.MetricsAddr) + "/metrics", MerchantKey: seed.MerchantKey, BuyerToken: token,
		ProductID: seed.ProductID, Took: time.Since(started), Footer: "Stop with Ctrl-C; state is kept in " + dataDir + "/.",
	})
	printConnectBanner(accountID, link)
	printTrustBanner(cfg, uiCodec, temporal != nil)
	return g.Wait()
}

// seedDemoShop creates a demo merchant and product once, and reuses them on
// later runs; path remembers them.
func seedDemoShop(ctx context.Context, st *store.Store, path string) (devSeed, error) {
	var seed devSeed
	if b, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(b, &seed) == nil {
			if _, err := st.MerchantByAPIKey(ctx, seed.MerchantKey); err == nil {
				if _, err := st.Product(ctx, seed.ProductID); err == nil {
					return seed, nil
				}
			}
		}
	}
	m, key, err := st.CreateMerchant(ctx, "Demo Merchant", "")
	if err != nil {
		return seed, fmt.Errorf("seed merchant: %w", err)
	}
	np := models.NewProduct{Title: "Demo T-shirt", Description: "A soft cotton T-shirt.", Price: 2500, Currency: "usd", Stock: 100, MaxPerOrder: 5}
	if err := np.Validate(); err != nil {
		return seed, err
	}
	p, err := st.CreateProduct(ctx, m.ID, np)
	if err != nil {
		return seed, fmt.Errorf("seed product: %w", err)
	}
	seed = devSeed{MerchantID: m.ID, MerchantKey: key, ProductID: p.ID}
	b, _ := json.MarshalIndent(seed, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return seed, err
	}
	return seed, nil
}

// banner is what `checkout dev` and `checkout cluster` print once ready.
type banner struct {
	Opening     string // the first line: what to open
	API         string // base URL clients use
	TemporalUI  string
	Stripe      string
	Metrics     string
	MerchantKey string
	BuyerToken  string
	ProductID   string
	Took        time.Duration
	Footer      string
}

func printBanner(b banner) {
	fmt.Printf(`
%s

Checkout is running (ready in %s).

  API          %s
  Temporal UI  %s
  Stripe       %s
  Metrics      %s
  Merchant key %s
  Buyer token  %s

Buy the demo product:

curl -sS -X POST %s/v1/purchases \
  -H "Authorization: Bearer %s" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: $(date +%%s%%N)" \
  -d '{"product_id":"%s","quantity":1,"payment_method":"pm_card_visa","shipping_address":{"name":"Ada Lovelace","line1":"12 St James Square","city":"London","postal_code":"SW1Y 4JH","country":"GB"}}'

Then, as the merchant:

curl -sS %s/v1/merchant/orders -H "Authorization: Bearer %s"
curl -sS -X POST %s/v1/merchant/orders/ORDER_ID/accept -H "Authorization: Bearer %s"

%s
`, b.Opening, b.Took.Round(time.Millisecond), b.API, b.TemporalUI, b.Stripe, b.Metrics, b.MerchantKey, b.BuyerToken,
		b.API, b.BuyerToken, b.ProductID, b.API, b.MerchantKey, b.API, b.MerchantKey, b.Footer)
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localAddr turns a listen address like ":8080" into one a client can dial.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
