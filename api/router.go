// Package api is the HTTP face of the checkout: it authenticates callers,
// validates their requests, starts and updates purchase workflows in Temporal
// and answers reads from the store's read model.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/web"
)

// Store is the part of the store the API uses. *store.Store satisfies it.
type Store interface {
	Ping(ctx context.Context) error
	CreateProduct(ctx context.Context, merchantID string, p models.NewProduct) (models.Product, error)
	ListProducts(ctx context.Context, merchantID string) ([]models.Product, error)
	Product(ctx context.Context, id string) (models.Product, error)
	Order(ctx context.Context, id string) (models.Order, error)
	ListMerchantOrders(ctx context.Context, merchantID string, status models.OrderStatus, limit int) ([]models.Order, error)
	ListOrdersInStatus(ctx context.Context, status models.OrderStatus, limit int) ([]models.Order, error)
	OrderEvents(ctx context.Context, orderID string) ([]models.OrderEvent, error)
	ClaimIdempotencyKey(ctx context.Context, scope, key, requestHash, orderID string) (store.IdempotencyRecord, bool, error)
	// Part of the interface, not asserted at run time, so that a store
	// without them fails to build instead of silently answering 503 or
	// skipping an erasure.
	merchantAccounts
	ProfileStore
	StripeEventStore
	BuyerOrders
}

var _ Store = (*store.Store)(nil)

// Config is everything the API depends on.
type Config struct {
	Store     Store
	Temporal  client.Client
	TaskQueue string
	// BuyerTokenSecret verifies buyer tokens without a kid; BuyerTokens adds
	// keys by kid, issuer, audience and maximum lifetime (see buyer_tokens.go).
	BuyerTokenSecret []byte
	BuyerTokens      BuyerTokenPolicy
	// AcceptTimeout is passed to new workflows; zero lets the workflow use its default.
	AcceptTimeout time.Duration
	// ShipBy and AutoCompleteAfter bound an order's life after accept and
	// after shipping; zero lets the workflow use its defaults.
	ShipBy            time.Duration
	AutoCompleteAfter time.Duration
	// PayWait is how long POST /v1/purchases waits for the payment outcome
	// before answering 202 pending. Default 5s.
	PayWait time.Duration
	// MaxBodyBytes caps request bodies. Default 64 KiB.
	MaxBodyBytes int64
	// Admission bounds the purchases waiting on Temporal at once with a
	// limit that follows their answer time, and refuses (503 + Retry-After)
	// a purchase whose answer could not come in time (see admission.go).
	Admission AdmissionLimits
	Logger    *slog.Logger
	// Registry receives the API's metrics; the API does not serve them
	// (cmd serves /metrics on METRICS_ADDR, its own listener). Nil: a
	// private registry.
	Registry prometheus.Registerer
	// AdminToken admits operators in the admin role to /v1/admin and
	// merchant creation; empty closes those endpoints. It opens nothing in
	// the codec server, whose own token (the codec role) is Codec's.
	AdminToken string
	// Profiles keeps saved buyer profiles; nil uses Store.
	Profiles ProfileStore
	// StripeWebhookSecret verifies POST /v1/webhooks/stripe (whsec_…);
	// empty refuses every delivery with 503.
	StripeWebhookSecret string
	// StripeEvents records Stripe events and disputes; nil uses Store.
	StripeEvents StripeEventStore
	// PaymentActionTimeout is passed to new workflows as the 3-D Secure
	// deadline; zero keeps the workflow's default (15 minutes).
	PaymentActionTimeout time.Duration
	// Rollout decides who may buy; GET/PUT /v1/admin/rollout change it at
	// run time. Nil lets nobody buy, so a wiring mistake fails closed.
	Rollout *rollout.Gate
	// RolloutStore, when set, keeps rollout changes for every replica.
	RolloutStore RolloutStore
	// TrustedProxies are the load balancers (IPs, CIDRs) whose
	// X-Forwarded-For gives the client address; none by default.
	TrustedProxies []string
	// RateLimits are the per-IP, per-buyer and per-merchant limits (429).
	// Zero fields take the defaults.
	RateLimits RateLimits
	// Codec, when set, is served under /codec/ (see api/codec.go): the
	// Temporal remote codec server, normally codec.NewServer.
	Codec http.Handler
	// WebhookURLs is which merchant webhook URLs are accepted when set: the
	// zero value (https, public addresses) is production's.
	WebhookURLs notify.URLPolicy
	// Web serves the Buy button, the checkout sheet and the demo page under
	// /embed/v1/ and /demo; nil answers 404 there.
	Web *web.Site
	// Demo, with Web, serves the demo post page at /demo (development only).
	Demo *web.Demo
	// Connect is merchants' Stripe connected accounts (onboarding, the
	// Connect webhook, balances).
	Connect Connect
	// Catalogue serves variants, images, shipping and tax policies and
	// quotes; nil uses Store when it can (the store does).
	Catalogue Catalogue
	// Tax computes purchases' tax; nil: each merchant's tax table.
	Tax models.TaxCalculator
}

const (
	defaultPayWait      = 5 * time.Second
	defaultMaxBodyBytes = 64 << 10
)

type app struct {
	cfg          Config
	metrics      *httpMetrics
	codecMetrics *codecMetrics
	admission    *admission
	limits       limiters
	buyerTokens  BuyerTokenPolicy
	accepting    acceptingMerchants
}

// New builds the HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.PayWait <= 0 {
		cfg.PayWait = defaultPayWait
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Rollout == nil {
		cfg.Rollout = &rollout.Gate{}
	}
	registerer := metricsRegistry(cfg.Registry)
	a := &app{cfg: cfg, metrics: newHTTPMetrics(registerer), codecMetrics: newCodecMetrics(registerer), admission: newAdmission(cfg.Admission, cfg.PayWait),
		limits: newLimiters(cfg.RateLimits)}
	registerAdmission(registerer, a.admission)
	a.buyerTokens = cfg.BuyerTokens.withDefaults()
	if a.buyerTokens.Secret == nil {
		a.buyerTokens.Secret = cfg.BuyerTokenSecret
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Trailing-slash redirects would answer 301 with an HTML body; unknown paths get JSON 404 instead.
	r.RedirectTrailingSlash = false
	r.HandleMethodNotAllowed = true
	// Only the configured load balancers may name the client in
	// X-Forwarded-For (config validates them); nobody else can pick their
	// own rate-limit key.
	_ = r.SetTrustedProxies(cfg.TrustedProxies)

	r.Use(requestID(cfg.Logger), accessLog(), a.metrics.observe(), recovery(), securityHeaders(),
		a.limitByIP, requestDeadline(requestTimeout(cfg.PayWait)), bodyLimit(cfg.MaxBodyBytes), requireJSONBody())

	r.NoRoute(func(c *gin.Context) {
		writeError(c, models.Errorf(models.KindNotFound, codeRouteNotFound, "no such route"))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, models.Invalid(codeMethodNotAllowed, "method not allowed"))
	})

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.GET("/openapi.yaml", serveOpenAPI)

	v1 := r.Group("/v1")
	v1.POST("/purchases", a.requireBuyer, a.createPurchase)
	v1.GET("/orders/:id", a.requireBuyerOrMerchant, a.getOrder)
	v1.POST("/orders/:id/cancel", a.requireBuyer, a.cancelOrder)
	v1.GET("/me/profile", a.requireBuyer, a.getProfile)
	v1.PUT("/me/profile", a.requireBuyer, a.putProfile)
	v1.DELETE("/me/profile", a.requireBuyer, a.deleteProfile)
	v1.GET("/me/orders", a.requireBuyer, a.listBuyerOrders)

	v1.POST("/products", a.requireMerchant, a.createProduct)
	v1.GET("/products/:id", a.productCORS, a.getProduct)
	v1.OPTIONS("/products/:id", a.productCORS)

	r.GET(web.ElementPath, a.serveElement)
	r.GET(web.AssetPrefix+":file", a.serveEmbedAsset)
	r.GET(web.SheetPath, a.serveSheet)
	r.GET("/demo", a.serveDemo)

	m := v1.Group("/merchant", a.requireMerchant)
	m.GET("/products", a.listMerchantProducts)
	m.GET("/orders", a.listMerchantOrders)
	m.POST("/orders/:id/accept", a.acceptOrder)
	m.POST("/orders/:id/reject", a.rejectOrder)
	m.POST("/orders/:id/ship", a.shipOrder)
	m.POST("/orders/:id/deliver", a.deliverOrder)
	m.POST("/orders/:id/refund", a.refundOrder)
	a.catalogueRoutes(v1, m)
	v1.POST("/webhooks/stripe", a.stripeWebhook)
	v1.POST("/webhooks/stripe/connect", a.connectWebhook)
	m.POST("/stripe/onboarding", a.startOnboarding)
	m.GET("/stripe", a.getMerchantStripe)
	m.GET("/balance", a.getBalance)
	m.POST("/keys/rotate", a.rotateMerchantKey)
	m.POST("/keys/revoke", a.revokeMerchantKey)
	m.GET("/keys", a.listMerchantKeys)
	m.GET("/audit-events", a.listMerchantAuditEvents)
	m.PUT("/webhook", a.setMerchantWebhook)
	m.GET("/orders/:id/deliveries", a.listDeliveries)
	m.POST("/orders/:id/deliveries/:delivery_id/replay", a.replayDelivery)
	v1.POST("/merchants", a.requireAdmin, a.createMerchant)

	admin := v1.Group("/admin", a.requireAdmin)
	admin.GET("/rollout", a.getRollout)
	admin.PUT("/rollout", a.putRollout)
	admin.GET("/rollout/history", a.rolloutHistory)
	admin.POST("/merchants/:id/keys/reset", a.resetMerchantKeys)
	admin.PUT("/merchants/:id/fee", a.setMerchantFee)
	admin.DELETE("/merchants/:id/fee", a.setMerchantFee)
	admin.GET("/orders/needs-attention", a.listAttention)
	admin.POST("/orders/:id/resolve", a.resolveOrder)
	return a.withCodec(r)
}
