package payments

import (
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// HTTPTimeout bounds one Stripe request when the caller brings no client
// (stripe-go's own default is 80 s), so a hung connection cannot hold an
// activity until its own timeout. The workflows' attempt timeouts are sized
// from it (workflows/options.go).
const HTTPTimeout = 20 * time.Second

// Config says how to reach Stripe (or a server speaking its protocol).
type Config struct {
	SecretKey string
	// APIBase replaces https://api.stripe.com, e.g. for stripe-mock or the
	// sandbox; "" means the real API.
	APIBase    string
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go itself retries a request that
	// failed transiently, with the same idempotency key. 0 leaves all retrying
	// to the caller (Temporal).
	MaxNetworkRetries int64
}

// Gateway talks to Stripe through its own client and backends, so two
// gateways in one process (tests, or several accounts) never share the
// package-level stripe.Key or backends.
type Gateway struct {
	sc *client.API
}

// New builds a gateway. It does no I/O; a bad key shows up on the first call.
func New(cfg Config) *Gateway {
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: HTTPTimeout}
	}
	backend := func(t stripe.SupportedBackend) stripe.Backend {
		bc := &stripe.BackendConfig{
			HTTPClient:        httpClient,
			MaxNetworkRetries: stripe.Int64(cfg.MaxNetworkRetries),
			// stripe-go logs every declined card and retry at info/error level
			// to stderr by default; the caller reports outcomes itself.
			LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
		}
		if cfg.APIBase != "" {
			bc.URL = stripe.String(cfg.APIBase)
		}
		return stripe.GetBackendWithConfig(t, bc)
	}
	sc := &client.API{}
	sc.Init(cfg.SecretKey, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
	return &Gateway{sc: sc}
}
