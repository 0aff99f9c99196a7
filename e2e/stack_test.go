package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/metrics"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/buybutton/checkout/web"
	"github.com/buybutton/checkout/worker"
	"github.com/buybutton/checkout/workflows"
	sdkworker "go.temporal.io/sdk/worker"
)

// stack is one isolated checkout: its own database, sandbox, task queue,
// worker and API server, on the shared Temporal dev server.
type stack struct {
	t           *testing.T
	Store       *store.Store
	Sandbox     *sandbox.Server
	Temporal    client.Client
	Ring        *keyring.Ring
	API         *httptest.Server
	secret      []byte
	MerchantID  string
	MerchantKey string
	// Host and Foreign serve host pages (see hostPage) when the stack has web.
	Host, Foreign *hostServer
	DemoProduct   string
	// Metrics is what the stack's /metrics serves: API, SDK and checkout
	// counters; MetricsURL serves it on a listener of its own, as cmd does.
	Metrics    *metrics.Set
	MetricsURL string

	taskQueue  string
	sandboxURL string
	timing     workflows.Timing // the worker's, from the stack options
	acts       *activities.Activities
	worker     sdkworker.Worker
}

type stackOptions struct {
	acceptTimeout time.Duration
	// rollout defaults to everyone in, so tests' buyers can buy.
	rollout *rollout.Settings
	// rateLimits zero takes the API's defaults.
	rateLimits api.RateLimits
	// notifyRetryInterval is the first merchant-webhook retry backoff;
	// zero: 100ms, so retry tests do not wait on production backoff.
	notifyRetryInterval time.Duration
	// webhooks makes the sandbox send its signed events to the stack's API.
	webhooks bool
	// paymentActionTimeout bounds 3-D Secure; zero: the workflow's 15 minutes.
	paymentActionTimeout time.Duration
	// authorizeTimeout and authorizationSearchInterval shorten the give-up
	// on authorization and the searches for a lost one; zero: production's.
	authorizeTimeout            time.Duration
	authorizationSearchInterval time.Duration
	// activityStore, when set, is the store the activities see, wrapping the
	// worker's (to make one of its writes fail); the API keeps the real one.
	activityStore func(*store.Store) activities.Store
	// productionWebhooks applies production's webhook URL policy (https,
	// public addresses) instead of the loopback-friendly one.
	productionWebhooks bool
	// logs, when set, receives every log line of the API, the activities and
	// the Temporal SDK (client and worker), at debug level.
	logs io.Writer
	// workerDB, when set, carries the worker's database connections (the
	// API keeps its own, direct), so a test can take the database away from
	// the workflow's steps alone.
	workerDB *tcpProxy
	// apiDB, when set, carries the API's database connections likewise.
	apiDB *tcpProxy
	// maxOpenUnpaid caps each buyer's orders waiting for payment; 0: no cap.
	maxOpenUnpaid int
	// plainPayloads leaves Temporal payloads unencrypted, for histories
	// recorded to replay without the stack's key ring.
	plainPayloads bool
	// web serves the Buy button and sheet, with Host (an allowed origin)
	// and Foreign (not allowed) as host pages on their own origins.
	web bool
	// demoBuyer, with web, serves /demo signed in as this buyer, selling
	// DemoProduct.
	demoBuyer string
	// payWait is how long a purchase waits for its payment before 202; zero: 10s.
	payWait time.Duration
	// fee is the platform fee; nil: e2eFee.
	fee *models.FeePolicy
	// refundFee is what refunds do with the fee; "": proportional.
	refundFee models.RefundFeePolicy
	// notOnboarded leaves the stack's merchant without a connected account.
	notOnboarded bool
	// admission bounds purchases in flight; zero: the API's defaults.
	admission api.AdmissionLimits
}

// e2eFee is the platform fee of every stack unless told otherwise.
var e2eFee = models.FeePolicy{BPS: 290, FixedMinor: 30}

// e2eWebhookSecret signs the sandbox's webhooks and verifies them in the API.
const e2eWebhookSecret = "whsec_e2e"

// e2eConnectWebhookSecret signs the Connect endpoint's events.
const e2eConnectWebhookSecret = "whsec_e2e_connect"

// e2eOperatorToken is the admin role's token of every stack (/v1/admin,
// merchant creation); e2eCodecToken the codec role's (the codec server only).
const (
	e2eOperatorToken = "op_e2e_operator_token"
	e2eCodecToken    = "codec_e2e_codec_token"
)

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	ctx := context.Background()
	dbURL := storetest.NewPostgresDatabase(t)
	storeRing := storetest.Ring(t)
	st := storetest.OpenURL(t, dbURL, storeRing)
	workerStore, apiStore := st, st
	if o.apiDB != nil {
		apiStore = storetest.OpenURL(t, o.apiDB.proxyURL(t, dbURL), storeRing)
	}
	if o.workerDB != nil {
		workerStore = storetest.OpenURL(t, o.workerDB.proxyURL(t, dbURL), storeRing)
	}

	// The API's listener exists before the sandbox, so the sandbox can be
	// told where to send webhooks; the API handler is set and served below.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	sbOpts := sandbox.Options{}
	if o.webhooks {
		sbOpts.WebhookURL = "http://" + srv.Listener.Addr().String() + "/v1/webhooks/stripe"
		sbOpts.WebhookSecret = e2eWebhookSecret
	}
	// Connected accounts' events always reach the API's Connect endpoint:
	// that is how merchants become purchasable.
	sbOpts.ConnectWebhookURL = "http://" + srv.Listener.Addr().String() + "/v1/webhooks/stripe/connect"
	sbOpts.ConnectWebhookSecret = e2eConnectWebhookSecret
	sb := sandbox.New(sbOpts)
	sbSrv := httptest.NewServer(sb)
	t.Cleanup(func() { sbSrv.Close(); sb.Close() })

	spec, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	dc, fc := codec.ClientOptions(ring)
	if o.plainPayloads {
		dc, fc = nil, nil
	}
	ms, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	appLog, sdkLog := slog.New(slog.NewTextHandler(io.Discard, nil)), quietTemporalLogger()
	if o.logs != nil {
		appLog = slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		sdkLog = tlog.NewStructuredLogger(appLog.With("component", "temporal"))
	}
	tc, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Logger: sdkLog,
		DataConverter: dc, FailureConverter: fc, MetricsHandler: ms.Temporal})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(tc.Close)

	taskQueue := "e2e-" + randomHex(6)
	var actStore activities.Store = workerStore
	if o.activityStore != nil {
		actStore = o.activityStore(workerStore)
	}
	acts := &activities.Activities{
		Store:      actStore,
		Payments:   payments.New(payments.Config{SecretKey: "sk_test_e2e", APIBase: sbSrv.URL}),
		Notifier:   notify.NewLocalSender(5 * time.Second),
		Logger:     appLog,
		Deliveries: workerStore,

		MaxOpenUnpaidPerBuyer: o.maxOpenUnpaid,
		Connect:               activities.Connect{Fee: e2eFee, RefundFee: o.refundFee},
	}
	if o.fee != nil {
		acts.Connect.Fee = *o.fee
	}
	if acts.Connect.RefundFee == "" {
		acts.Connect.RefundFee = models.RefundFeeProportional
	}
	if o.notifyRetryInterval == 0 {
		o.notifyRetryInterval = 100 * time.Millisecond
	}

	secret := []byte("e2e-secret-" + randomHex(8))
	settings := rollout.Settings{Percent: 100}
	if o.rollout != nil {
		settings = *o.rollout
	}
	gate, err := rollout.NewGate(settings)
	if err != nil {
		t.Fatal(err)
	}
	if o.acceptTimeout == 0 {
		o.acceptTimeout = time.Hour
	}
	if o.payWait == 0 {
		o.payWait = 10 * time.Second
	}
	m, key, err := st.CreateMerchant(ctx, "Test Merchant", "")
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	var site *web.Site
	var demo *web.Demo
	var host, foreign *hostServer
	if o.web {
		host, foreign = newHostServer(t), newHostServer(t)
		if site, err = web.New(web.Options{AllowedOrigins: []string{host.URL}, StripeJSURL: sbSrv.URL + sandbox.StripeJSPath,
			StripeAPIOrigin: sbSrv.URL, PublishableKey: "pk_test_e2e"}); err != nil {
			t.Fatal(err)
		}
		if o.demoBuyer != "" {
			p, err := st.CreateProduct(ctx, m.ID, models.NewProduct{Title: "Demo T-shirt", Price: 2500, Currency: "usd", Stock: 100, MaxPerOrder: 5})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := api.MintBuyerToken(secret, o.demoBuyer, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			demo = &web.Demo{ProductID: p.ID, BuyerToken: tok}
		}
	}
	// Test merchants listen on loopback over plain http.
	webhookURLs := notify.URLPolicy{AllowPrivate: true, AllowHTTP: true}
	if o.productionWebhooks {
		webhookURLs = notify.URLPolicy{}
	}
	h := api.New(api.Config{
		Web:              site,
		Demo:             demo,
		Store:            apiStore,
		Temporal:         tc,
		TaskQueue:        taskQueue,
		BuyerTokenSecret: secret,
		AcceptTimeout:    o.acceptTimeout,
		PayWait:          o.payWait,
		Admission:        o.admission,
		Logger:           appLog,
		AdminToken:       e2eOperatorToken,
		Rollout:          gate,
		RateLimits:       o.rateLimits,
		Registry:         ms.Registry,
		WebhookURLs:      webhookURLs,
		Codec:            codec.NewServer(ring, codec.ServerOptions{Token: e2eCodecToken}),

		StripeWebhookSecret:  e2eWebhookSecret,
		PaymentActionTimeout: o.paymentActionTimeout,
		Connect: api.Connect{
			Gateway:       payments.New(payments.Config{SecretKey: "sk_test_e2e", APIBase: sbSrv.URL}),
			WebhookSecret: e2eConnectWebhookSecret,
		},
	})
	srv.Config.Handler = h
	srv.Start()

	metricsSrv := httptest.NewServer(ms.Handler())
	t.Cleanup(metricsSrv.Close)

	s := &stack{t: t, Host: host, Foreign: foreign, Ring: ring, Store: st, Sandbox: sb, Temporal: tc, API: srv, secret: secret, MerchantID: m.ID, MerchantKey: key,
		Metrics: ms, MetricsURL: metricsSrv.URL, taskQueue: taskQueue, sandboxURL: sbSrv.URL, acts: acts,
		timing: workflows.Timing{NotifyRetryInterval: o.notifyRetryInterval, AuthorizeTimeout: o.authorizeTimeout,
			AuthorizationSearchInterval: o.authorizationSearchInterval}}
	if demo != nil {
		s.DemoProduct = demo.ProductID
	}
	if !o.notOnboarded {
		s.onboard(key)
	}
	s.startWorker()
	t.Cleanup(func() { s.worker.Stop() })
	return s
}

func (s *stack) startWorker() {
	s.t.Helper()
	w, err := worker.New(s.Temporal, s.taskQueue, s.acts, worker.Options{Timing: s.timing, Metrics: s.Metrics.Temporal})
	if err != nil {
		s.t.Fatalf("worker: %v", err)
	}
	s.worker = w
	if err := s.worker.Start(); err != nil {
		s.t.Fatalf("start worker: %v", err)
	}
}

// restartWorker stops the worker as a crash would leave things (its cached
// workflows gone) and starts a fresh one on the same task queue.
func (s *stack) restartWorker() {
	s.worker.Stop()
	s.startWorker()
}

// buyer returns a bearer token for a new buyer id.
func (s *stack) buyer(id string) string {
	s.t.Helper()
	tok, err := api.MintBuyerToken(s.secret, id, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// product creates a product through the API, as the merchant.
func (s *stack) product(stock int, price int64) string {
	s.t.Helper()
	res := s.do("POST", "/v1/products", s.MerchantKey, nil, map[string]any{
		"title": "Mug", "price": price, "currency": "usd", "stock": stock, "max_per_order": 5,
	})
	res.expect(http.StatusCreated)
	return res.str("id")
}

func address() map[string]any {
	return map[string]any{"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}
}

func purchaseBody(productID string, qty int, pm string) map[string]any {
	return map[string]any{"product_id": productID, "quantity": qty, "payment_method": pm, "shipping_address": address()}
}

// purchase posts a purchase with an Idempotency-Key.
func (s *stack) purchase(token, key string, body any) response {
	return s.do("POST", "/v1/purchases", token, map[string]string{"Idempotency-Key": key}, body)
}

func (s *stack) merchantAction(orderID, action string, body any) response {
	return s.do("POST", "/v1/merchant/orders/"+orderID+"/"+action, s.MerchantKey, nil, body)
}

type response struct {
	t      *testing.T
	Status int
	Body   map[string]any
	Raw    string
	Header http.Header
}

func (s *stack) do(method, path, bearer string, headers map[string]string, body any) response {
	s.t.Helper()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.API.URL+path, rdr)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{t: s.t, Status: res.StatusCode, Raw: string(raw), Header: res.Header}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			s.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return out
}

func (r response) expect(status int) response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	return r
}

func (r response) str(key string) string {
	r.t.Helper()
	v, ok := r.Body[key].(string)
	if !ok {
		r.t.Fatalf("body has no string %q: %s", key, r.Raw)
	}
	return v
}

func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (s *stack) order(id string) models.Order {
	s.t.Helper()
	o, err := s.Store.Order(context.Background(), id)
	if err != nil {
		s.t.Fatalf("order %s: %v", id, err)
	}
	return o
}

func (s *stack) stock(productID string) int {
	s.t.Helper()
	p, err := s.Store.Product(context.Background(), productID)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Stock
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quietTemporalLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})))
}
