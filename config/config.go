// Package config reads the service's settings from the environment, in one
// place, with the defaults documented in README.md.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/buybutton/checkout/workflows"
)

// Config is every setting of every subcommand.
type Config struct {
	HTTPAddr          string        // HTTP_ADDR
	DatabaseURL       string        // DATABASE_URL; empty means the SQLite file data/checkout.db
	TemporalAddress   string        // TEMPORAL_ADDRESS
	TemporalNamespace string        // TEMPORAL_NAMESPACE
	TaskQueue         string        // TASK_QUEUE
	StripeSecretKey   string        // STRIPE_SECRET_KEY; empty means the local sandbox
	StripeAPIBase     string        // STRIPE_API_BASE
	StripeWebhookKey  string        // STRIPE_WEBHOOK_SECRET
	BuyerTokenSecret  string        // BUYER_TOKEN_SECRET
	AcceptTimeout     time.Duration // MERCHANT_ACCEPT_TIMEOUT
	PayWait           time.Duration // PAY_WAIT: how long POST /v1/purchases waits for the payment answer
	SandboxAddr       string        // SANDBOX_ADDR: where `checkout sandbox` and `checkout dev` serve the sandbox
	LogLevel          string        // LOG_LEVEL: debug, info, warn, error
	OperatorToken     string        // OPERATOR_TOKEN: operators' bearer token (admin endpoints, codec server)
	EncryptionKeys    string        // CHECKOUT_ENCRYPTION_KEYS: key ring spec, see package keyring
	TemporalUIOrigin  string        // TEMPORAL_UI_ORIGIN: the Temporal UI allowed to call the codec server
	RolloutPercent    string        // ROLLOUT_PERCENT: share of buyers who see the Buy button, 0–100
	RolloutAllow      string        // ROLLOUT_ALLOW: comma-separated buyer ids always in (dogfood)
	RolloutDeny       string        // ROLLOUT_DENY: comma-separated buyer ids always out
	RolloutOffFor     string        // ROLLOUT_DISABLED_MERCHANTS: comma-separated merchant ids whose button is off
	// WebhookPrivateNetworks lets merchant webhooks reach loopback and private
	// addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); `checkout dev` sets it.
	WebhookPrivateNetworks bool
	RateLimitIP            string // RATE_LIMIT_IP: "RATE[,BURST]" requests/s per client IP, or "off"
	RateLimitBuyer         string // RATE_LIMIT_BUYER: same, per buyer
	RateLimitMerchant      string // RATE_LIMIT_MERCHANT: same, per merchant
	MetricsAddr            string // METRICS_ADDR: where `checkout worker` serves /metrics; empty: not served
	// StripePublishableKey (STRIPE_PUBLISHABLE_KEY) is the pk_… the checkout
	// sheet hands to Stripe.js; empty with the sandbox.
	StripePublishableKey string
	// EmbedAllowedOrigins (EMBED_ALLOWED_ORIGINS, comma-separated) are the
	// host origins allowed to frame the checkout sheet, besides its own.
	EmbedAllowedOrigins []string
}

// Defaults that are not secrets.
const (
	DefaultHTTPAddr    = ":8080"
	DefaultTemporal    = "localhost:7233"
	DefaultNamespace   = "default"
	DefaultTaskQueue   = "checkout"
	DefaultSandboxAddr = "127.0.0.1:12111"
	DefaultPayWait     = 5 * time.Second
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
		HTTPAddr:               env("HTTP_ADDR", DefaultHTTPAddr),
		DatabaseURL:            os.Getenv("DATABASE_URL"),
		TemporalAddress:        env("TEMPORAL_ADDRESS", DefaultTemporal),
		TemporalNamespace:      env("TEMPORAL_NAMESPACE", DefaultNamespace),
		TaskQueue:              env("TASK_QUEUE", DefaultTaskQueue),
		StripeSecretKey:        os.Getenv("STRIPE_SECRET_KEY"),
		StripeAPIBase:          os.Getenv("STRIPE_API_BASE"),
		StripeWebhookKey:       os.Getenv("STRIPE_WEBHOOK_SECRET"),
		BuyerTokenSecret:       os.Getenv("BUYER_TOKEN_SECRET"),
		SandboxAddr:            env("SANDBOX_ADDR", DefaultSandboxAddr),
		LogLevel:               env("LOG_LEVEL", "info"),
		OperatorToken:          os.Getenv("OPERATOR_TOKEN"),
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
		MetricsAddr:            os.Getenv("METRICS_ADDR"),
		StripePublishableKey:   os.Getenv("STRIPE_PUBLISHABLE_KEY"),
		EmbedAllowedOrigins:    splitList(os.Getenv("EMBED_ALLOWED_ORIGINS")),
	}
	var err error
	if c.AcceptTimeout, err = duration("MERCHANT_ACCEPT_TIMEOUT", workflows.DefaultAcceptTimeout); err != nil {
		return c, err
	}
	if c.AcceptTimeout <= 0 || c.AcceptTimeout > workflows.MaxAcceptTimeout {
		return c, fmt.Errorf("MERCHANT_ACCEPT_TIMEOUT must be positive and at most %s (card authorizations lapse after about 7 days)", workflows.MaxAcceptTimeout)
	}
	if c.PayWait, err = duration("PAY_WAIT", DefaultPayWait); err != nil {
		return c, err
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
