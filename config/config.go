// Package config reads the service's settings from the environment, in one
// place, with the defaults documented in README.md.
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/buybutton/checkout/workflows"
)

// Config is every setting of every subcommand.
type Config struct {
	HTTPAddr          string        // HTTP_ADDR; empty: the command's default (see ListenAddr)
	DatabaseURL       string        // DATABASE_URL; empty means the SQLite file data/checkout.db
	TemporalAddress   string        // TEMPORAL_ADDRESS
	TemporalNamespace string        // TEMPORAL_NAMESPACE
	TaskQueue         string        // TASK_QUEUE
	StripeSecretKey   string        // STRIPE_SECRET_KEY; empty means the local sandbox
	StripeAPIBase     string        // STRIPE_API_BASE
	StripeWebhookKey  string        // STRIPE_WEBHOOK_SECRET
	BuyerTokenSecret  string        // BUYER_TOKEN_SECRET: verifies buyer tokens without a kid
	BuyerTokenKeys    string        // BUYER_TOKEN_KEYS: "kid=secret;kid2=secret2", buyer tokens by kid
	BuyerTokenIssuer  string        // BUYER_TOKEN_ISSUER: required iss ("" = the API's default)
	BuyerTokenAud     string        // BUYER_TOKEN_AUDIENCE: required aud ("" = the API's default)
	BuyerTokenMaxLife time.Duration // BUYER_TOKEN_MAX_LIFETIME: longest exp - iat accepted (0 = the API's default)
	AcceptTimeout     time.Duration // MERCHANT_ACCEPT_TIMEOUT
	ShipBy            time.Duration // SHIP_BY: how long after accepting the merchant has to ship
	// PAYMENT_ACTION_TIMEOUT: how long a 3-D Secure purchase holds its stock
	// waiting for the buyer's challenge.
	PaymentActionTimeout time.Duration
	// MAX_OPEN_UNPAID_PER_BUYER: how many orders one buyer may have waiting
	// for payment (pending, requires_action) at once; 0 turns the cap off.
	MaxOpenUnpaidPerBuyer int
	AutoCompleteAfter     time.Duration // AUTO_COMPLETE_AFTER: a shipped order completes by itself this long after shipping
	PayWait               time.Duration // PAY_WAIT: how long POST /v1/purchases waits for the payment answer
	SandboxAddr           string        // SANDBOX_ADDR: where `checkout sandbox` and `checkout dev` serve the sandbox
	LogLevel              string        // LOG_LEVEL: debug, info, warn, error
	AdminToken            string        // ADMIN_TOKEN: the admin role's bearer token (merchants, keys, rollout)
	CodecToken            string        // CODEC_TOKEN: the codec role's bearer token (decode/encode only)
	EncryptionKeys        string        // CHECKOUT_ENCRYPTION_KEYS: key ring spec, see package keyring
	TemporalUIOrigin      string        // TEMPORAL_UI_ORIGIN: the Temporal UI allowed to call the codec server
	RolloutPercent        string        // ROLLOUT_PERCENT: share of buyers who see the Buy button, 0–100
	RolloutAllow          string        // ROLLOUT_ALLOW: comma-separated buyer ids always in (dogfood)
	RolloutDeny           string        // ROLLOUT_DENY: comma-separated buyer ids always out
	RolloutOffFor         string        // ROLLOUT_DISABLED_MERCHANTS: comma-separated merchant ids whose button is off
	// ROLLOUT_REFRESH: how often an api replica reads the stored rollout
	// settings; a change made on one replica reaches the others within it.
	RolloutRefresh time.Duration
	// WebhookPrivateNetworks lets merchant webhooks reach loopback and private
	// addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); `checkout dev` sets it.
	WebhookPrivateNetworks bool
	// Development is set by `checkout dev` only (no variable): merchant
	// webhooks may then use plain http.
	Development       bool
	RateLimitIP       string // RATE_LIMIT_IP: "RATE[,BURST]" requests/s per client IP, or "off"
	RateLimitBuyer    string // RATE_LIMIT_BUYER: same, per buyer
	RateLimitMerchant string // RATE_LIMIT_MERCHANT: same, per merchant
	RateLimitStripe   string // RATE_LIMIT_STRIPE_WEBHOOK_IP: same, per IP on the Stripe webhook route
	MetricsAddr       string // METRICS_ADDR: where `checkout api` and `worker` serve /metrics (own listener); empty: not served
	// StripePublishableKey (STRIPE_PUBLISHABLE_KEY) is the pk_… the checkout
	// sheet hands to Stripe.js; empty with the sandbox.
	StripePublishableKey string
	// WorkerDeployment (WORKER_DEPLOYMENT_NAME) and WorkerBuildID
	// (WORKER_BUILD_ID) turn on Worker Versioning for `checkout worker`;
	// both or neither.
	WorkerDeployment, WorkerBuildID string
	// TrustedProxies (TRUSTED_PROXIES, comma-separated IPs or CIDRs) are the
	// load balancers whose X-Forwarded-For names the client: per-IP limits
	// then key on the client, not on the balancer. Empty: no proxy trusted.
	TrustedProxies []string
	// EmbedAllowedOrigins (EMBED_ALLOWED_ORIGINS, comma-separated) are the
	// host origins allowed to frame the checkout sheet, besides its own.
	EmbedAllowedOrigins []string
	// Connect holds the platform fee and Connect onboarding settings.
	Connect Connect
}

// Defaults that are not secrets.
const (
	DefaultHTTPAddr = ":8080"
	// DefaultDevHTTPAddr is where `checkout dev` listens: loopback only, as
	// development secrets are not secret to anyone on the network.
	DefaultDevHTTPAddr = "127.0.0.1:8080"
	// DefaultDevMetricsAddr is where `checkout dev` serves /metrics.
	DefaultDevMetricsAddr = "127.0.0.1:9090"
	DefaultTemporal       = "localhost:7233"
	DefaultNamespace      = "default"
	DefaultTaskQueue      = "checkout"
	DefaultSandboxAddr    = "127.0.0.1:12111"
	DefaultPayWait        = 5 * time.Second
	// DefaultRolloutRefresh bounds how long two replicas may answer a
	// rollout question differently after a change.
	DefaultRolloutRefresh = 2 * time.Second
	// A 3-D Secure challenge takes a buyer a minute or two; holding the
	// stock longer only lets abandoned purchases keep others from buying.
	DefaultPaymentActionTimeout = 10 * time.Minute
	// Enough for a buyer with a 3-D Secure card and a retry or two; too few
	// to hold a product's stock with purchases that never finish.
	DefaultMaxOpenUnpaidPerBuyer = 3
	// SandboxSecretKey is the key the sandbox accepts; it is not a Stripe key.
	SandboxSecretKey = "sk_test_sandbox"
	// SandboxWebhookSecret signs the sandbox's webhooks in development.
	SandboxWebhookSecret = "whsec_sandbox"
	// SandboxPublishableKey is what the sheet gives the sandbox's Stripe.js.
	SandboxPublishableKey = "pk_test_sandbox"
	// StripeJSURL is Stripe.js itself, used with a real publishable key.
	StripeJSURL = "https://js.stripe.com/v3"
)

// FromEnv reads the environment. It fails on malformed values rather than
// silently using a default.
func FromEnv() (Config, error) {
	c := Config{
		HTTPAddr:               os.Getenv("HTTP_ADDR"),
		DatabaseURL:            os.Getenv("DATABASE_URL"),
		TemporalAddress:        env("TEMPORAL_ADDRESS", DefaultTemporal),
		TemporalNamespace:      env("TEMPORAL_NAMESPACE", DefaultNamespace),
		TaskQueue:              env("TASK_QUEUE", DefaultTaskQueue),
		StripeSecretKey:        os.Getenv("STRIPE_SECRET_KEY"),
		StripeAPIBase:          os.Getenv("STRIPE_API_BASE"),
		StripeWebhookKey:       os.Getenv("STRIPE_WEBHOOK_SECRET"),
		BuyerTokenSecret:       os.Getenv("BUYER_TOKEN_SECRET"),
		BuyerTokenKeys:         os.Getenv("BUYER_TOKEN_KEYS"),
		BuyerTokenIssuer:       os.Getenv("BUYER_TOKEN_ISSUER"),
		BuyerTokenAud:          os.Getenv("BUYER_TOKEN_AUDIENCE"),
		SandboxAddr:            env("SANDBOX_ADDR", DefaultSandboxAddr),
		LogLevel:               env("LOG_LEVEL", "info"),
		AdminToken:             os.Getenv("ADMIN_TOKEN"),
		CodecToken:             os.Getenv("CODEC_TOKEN"),
		EncryptionKeys:         os.Getenv("CHECKOUT_ENCRYPTION_KEYS"),
		TemporalUIOrigin:       env("TEMPORAL_UI_ORIGIN", "http://localhost:8233"),
		RolloutPercent:         env("ROLLOUT_PERCENT", "0"),
		RolloutAllow:           os.Getenv("ROLLOUT_ALLOW"),
		RolloutDeny:            os.Getenv("ROLLOUT_DENY"),
		RolloutOffFor:          os.Getenv("ROLLOUT_DISABLED_MERCHANTS"),
		WebhookPrivateNetworks: os.Getenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS") == "true",
		RateLimitIP:            os.Getenv("RATE_LIMIT_IP"),
		RateLimitBuyer:         os.Getenv("RATE_LIMIT_BUYER"),
		RateLimitMerchant:      os.Getenv("RATE_LIMIT_MERCHANT"),
		RateLimitStripe:        os.Getenv("RATE_LIMIT_STRIPE_WEBHOOK_IP"),
		MetricsAddr:            os.Getenv("METRICS_ADDR"),
		StripePublishableKey:   os.Getenv("STRIPE_PUBLISHABLE_KEY"),
		EmbedAllowedOrigins:    splitList(os.Getenv("EMBED_ALLOWED_ORIGINS")),
		TrustedProxies:         splitList(os.Getenv("TRUSTED_PROXIES")),
		WorkerDeployment:       os.Getenv("WORKER_DEPLOYMENT_NAME"),
		WorkerBuildID:          os.Getenv("WORKER_BUILD_ID"),
	}
	if os.Getenv("OPERATOR_TOKEN") != "" {
		return c, fmt.Errorf("OPERATOR_TOKEN is no longer read: it was split into ADMIN_TOKEN (admin endpoints) and CODEC_TOKEN (the codec server), which must differ")
	}
	if (c.WorkerDeployment == "") != (c.WorkerBuildID == "") {
		return c, fmt.Errorf("WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID go together: set both for Worker Versioning, or neither")
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return c, fmt.Errorf("TRUSTED_PROXIES: %q is not an IP address or CIDR", p)
		}
	}
	var err error
	if c.Connect, err = connectFromEnv(); err != nil {
		return c, err
	}
	if c.AcceptTimeout, err = duration("MERCHANT_ACCEPT_TIMEOUT", workflows.DefaultAcceptTimeout); err != nil {
		return c, err
	}
	if c.AcceptTimeout <= 0 || c.AcceptTimeout > workflows.MaxAcceptTimeout {
		return c, fmt.Errorf("MERCHANT_ACCEPT_TIMEOUT must be positive and at most %s (card authorizations lapse after about 7 days)", workflows.MaxAcceptTimeout)
	}
	if c.ShipBy, err = duration("SHIP_BY", workflows.DefaultShipBy); err != nil {
		return c, err
	}
	if c.AutoCompleteAfter, err = duration("AUTO_COMPLETE_AFTER", workflows.DefaultAutoCompleteAfter); err != nil {
		return c, err
	}
	if c.PaymentActionTimeout, err = duration("PAYMENT_ACTION_TIMEOUT", DefaultPaymentActionTimeout); err != nil {
		return c, err
	}
	if c.PaymentActionTimeout <= 0 || c.PaymentActionTimeout > workflows.PaymentActionTimeout {
		return c, fmt.Errorf("PAYMENT_ACTION_TIMEOUT must be positive and at most %s", workflows.PaymentActionTimeout)
	}
	if c.MaxOpenUnpaidPerBuyer, err = integer("MAX_OPEN_UNPAID_PER_BUYER", DefaultMaxOpenUnpaidPerBuyer); err != nil {
		return c, err
	}
	if c.MaxOpenUnpaidPerBuyer < 0 {
		return c, fmt.Errorf("MAX_OPEN_UNPAID_PER_BUYER must not be negative")
	}
	if c.ShipBy <= 0 || c.AutoCompleteAfter <= 0 {
		return c, fmt.Errorf("SHIP_BY and AUTO_COMPLETE_AFTER must be positive")
	}
	if c.RolloutRefresh, err = duration("ROLLOUT_REFRESH", DefaultRolloutRefresh); err != nil {
		return c, err
	}
	if c.RolloutRefresh <= 0 || c.RolloutRefresh > time.Minute {
		return c, fmt.Errorf("ROLLOUT_REFRESH must be positive and at most 1m")
	}
	if c.PayWait, err = duration("PAY_WAIT", DefaultPayWait); err != nil {
		return c, err
	}
	if c.BuyerTokenMaxLife, err = duration("BUYER_TOKEN_MAX_LIFETIME", 0); err != nil {
		return c, err
	}
	if c.BuyerTokenMaxLife < 0 {
		return c, fmt.Errorf("BUYER_TOKEN_MAX_LIFETIME must be positive")
	}
	if c.UsesSandbox() != (c.StripePublishableKey == "") {
		return c, fmt.Errorf("STRIPE_PUBLISHABLE_KEY and STRIPE_SECRET_KEY go together: set both, or neither for the sandbox")
	}
	return c, nil
}

// PublishableKey is the key the checkout sheet gives Stripe.js.
func (c Config) PublishableKey() string {
	if c.UsesSandbox() {
		return SandboxPublishableKey
	}
	return c.StripePublishableKey
}

// StripeJS is the Stripe.js the sheet loads: Stripe's, or the sandbox's
// stand-in, which speaks the same API subset.
func (c Config) StripeJS() string {
	if c.UsesSandbox() {
		return c.StripeBase() + "/js/v3"
	}
	return StripeJSURL
}

// StripeAPIOrigin is where Stripe.js sends card data from the browser.
func (c Config) StripeAPIOrigin() string {
	if c.UsesSandbox() {
		return c.StripeBase()
	}
	return "https://api.stripe.com"
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ListenAddr is HTTP_ADDR, or else every interface for `checkout api` (it
// runs in a container behind a load balancer) and loopback only for
// `checkout dev`.
func (c Config) ListenAddr(dev bool) string {
	switch {
	case c.HTTPAddr != "":
		return c.HTTPAddr
	case dev:
		return DefaultDevHTTPAddr
	}
	return DefaultHTTPAddr
}

// UsesSandbox reports whether payments go to the local Stripe-protocol sandbox.
func (c Config) UsesSandbox() bool { return c.StripeSecretKey == "" }

// StripeKey is the key to send: the real one, or the sandbox's.
func (c Config) StripeKey() string {
	if c.UsesSandbox() {
		return SandboxSecretKey
	}
	return c.StripeSecretKey
}

// StripeBase is the base URL of the Stripe API to talk to ("" = Stripe itself).
func (c Config) StripeBase() string {
	if c.StripeAPIBase == "" && c.UsesSandbox() {
		return "http://" + c.SandboxAddr
	}
	return c.StripeAPIBase
}

// WebhookSecret is the Stripe webhook signing secret (the sandbox's by default).
func (c Config) WebhookSecret() string {
	if c.StripeWebhookKey == "" && c.UsesSandbox() {
		return SandboxWebhookSecret
	}
	return c.StripeWebhookKey
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func duration(key string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, nerr := strconv.Atoi(v); nerr == nil {
			return time.Duration(n) * time.Second, nil
		}
		return 0, fmt.Errorf("%s: %q is not a duration like 48h or 90s", key, v)
	}
	return d, nil
}

func integer(key string, def int) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", key, v)
	}
	return n, nil
}
