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
	"github.com/buybutton/checkout/store"
)

// Store is the part of the store the API uses. *store.Store satisfies it.
type Store interface {
	Ping(ctx context.Context) error
	MerchantByAPIKey(ctx context.Context, apiKey string) (models.Merchant, error)
	CreateProduct(ctx context.Context, merchantID string, p models.NewProduct) (models.Product, error)
	ListProducts(ctx context.Context, merchantID string) ([]models.Product, error)
	Product(ctx context.Context, id string) (models.Product, error)
	Order(ctx context.Context, id string) (models.Order, error)
	ListMerchantOrders(ctx context.Context, merchantID string, status models.OrderStatus, limit int) ([]models.Order, error)
	OrderEvents(ctx context.Context, orderID string) ([]models.OrderEvent, error)
	ClaimIdempotencyKey(ctx context.Context, scope, key, requestHash, orderID string) (store.IdempotencyRecord, bool, error)
}

var _ Store = (*store.Store)(nil)

// Config is everything the API depends on.
type Config struct {
	Store            Store
	Temporal         client.Client
	TaskQueue        string
	BuyerTokenSecret []byte
	// AcceptTimeout is passed to new workflows; zero lets the workflow use its default.
	AcceptTimeout time.Duration
	// PayWait is how long POST /v1/purchases waits for the payment outcome
	// before answering 202 pending. Default 5s.
	PayWait time.Duration
	// MaxBodyBytes caps request bodies. Default 64 KiB.
	MaxBodyBytes int64
	// MaxInFlightPurchases bounds the purchases waiting on Temporal at once:
	// past about 32 concurrent starts a small cluster gets slower for
	// everyone, so extra purchases are refused fast (503) instead. Default 32.
	MaxInFlightPurchases int
	Logger               *slog.Logger
	// Registry receives the API's metrics and, when it is also a Gatherer, is
	// what /metrics serves. Nil: a private registry.
	Registry prometheus.Registerer
	// OperatorToken admits operators to /v1/admin and the codec server;
	// empty closes those endpoints.
	OperatorToken string
}

const (
	defaultPayWait              = 5 * time.Second
	defaultMaxBodyBytes         = 64 << 10
	defaultMaxInFlightPurchases = 32
)

type app struct {
	cfg           Config
	metrics       *httpMetrics
	purchaseSlots chan struct{}
}

// New builds the HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.PayWait <= 0 {
		cfg.PayWait = defaultPayWait
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultMaxBodyBytes
	}
	if cfg.MaxInFlightPurchases <= 0 {
		cfg.MaxInFlightPurchases = defaultMaxInFlightPurchases
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	gatherer, registerer := metricsRegistry(cfg.Registry)
	a := &app{cfg: cfg, metrics: newHTTPMetrics(registerer), purchaseSlots: make(chan struct{}, cfg.MaxInFlightPurchases)}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Trailing-slash redirects would answer 301 with an HTML body; unknown paths get JSON 404 instead.
	r.RedirectTrailingSlash = false
	r.HandleMethodNotAllowed = true
	_ = r.SetTrustedProxies(nil)

	r.Use(requestID(cfg.Logger), accessLog(), a.metrics.observe(), recovery(), securityHeaders(),
		bodyLimit(cfg.MaxBodyBytes), requireJSONBody())

	r.NoRoute(func(c *gin.Context) {
		writeError(c, models.Errorf(models.KindNotFound, codeRouteNotFound, "no such route"))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, models.Invalid(codeMethodNotAllowed, "method not allowed"))
	})

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", gin.WrapH(metricsHandler(gatherer)))

	v1 := r.Group("/v1")
	v1.POST("/purchases", a.requireBuyer, a.createPurchase)
	v1.GET("/orders/:id", a.requireBuyerOrMerchant, a.getOrder)
	v1.POST("/orders/:id/cancel", a.requireBuyer, a.cancelOrder)

	v1.POST("/products", a.requireMerchant, a.createProduct)
	v1.GET("/products/:id", a.getProduct)

	m := v1.Group("/merchant", a.requireMerchant)
	m.GET("/products", a.listMerchantProducts)
	m.GET("/orders", a.listMerchantOrders)
	m.POST("/orders/:id/accept", a.acceptOrder)
	m.POST("/orders/:id/reject", a.rejectOrder)
	m.POST("/orders/:id/ship", a.shipOrder)
	m.POST("/orders/:id/deliver", a.deliverOrder)
	return r
}
