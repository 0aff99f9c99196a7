package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// fakeStore is an in-memory Store with the contract's semantics for what
// the API relies on (not-found kinds, insert-or-get idempotency claims).
type fakeStore struct {
	mu        sync.Mutex
	pingErr   error
	merchants map[string]models.Merchant // by API key
	products  map[string]models.Product
	orders    map[string]models.Order
	events    map[string][]models.OrderEvent
	claims    map[string]store.IdempotencyRecord
	nextID    int
	// productReads counts Product calls, for the purchase path's query budget.
	productReads int
	erasures     int // EraseProfile calls
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		merchants: map[string]models.Merchant{},
		products:  map[string]models.Product{},
		orders:    map[string]models.Order{},
		events:    map[string][]models.OrderEvent{},
		claims:    map[string]store.IdempotencyRecord{},
	}
}

func (s *fakeStore) Ping(context.Context) error { s.mu.Lock(); defer s.mu.Unlock(); return s.pingErr }

// AuthenticateMerchantKey knows only current keys.
func (s *fakeStore) AuthenticateMerchantKey(_ context.Context, key string) (models.Merchant, models.MerchantKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.merchants[key]
	if !ok {
		return models.Merchant{}, models.MerchantKey{}, models.NotFound("merchant")
	}
	return m, models.MerchantKey{ID: "mkid_" + m.ID, Current: true}, nil
}

func (s *fakeStore) CreateProduct(_ context.Context, merchantID string, np models.NewProduct) (models.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p := models.Product{ID: fmt.Sprintf("prod_%d", s.nextID), MerchantID: merchantID, Title: np.Title,
		Description: np.Description, PriceMinor: np.Price, Currency: np.Currency, Stock: np.Stock,
		MaxPerOrder: np.MaxPerOrder, Active: true}
	s.products[p.ID] = p
	return p, nil
}

func (s *fakeStore) ListProducts(_ context.Context, merchantID string) ([]models.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.Product
	for _, p := range s.products {
		if p.MerchantID == merchantID {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *fakeStore) Product(_ context.Context, id string) (models.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.productReads++
	p, ok := s.products[id]
	if !ok {
		return models.Product{}, models.NotFound("product")
	}
	return p, nil
}

func (s *fakeStore) Order(_ context.Context, id string) (models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return models.Order{}, models.NotFound("order")
	}
	return o, nil
}

func (s *fakeStore) ListOrdersInStatus(_ context.Context, status models.OrderStatus, limit int) ([]models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.Order
	for _, o := range s.orders {
		if o.Status == status {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *fakeStore) ListMerchantOrders(_ context.Context, merchantID string, status models.OrderStatus, limit int) ([]models.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.Order
	for _, o := range s.orders {
		if o.MerchantID == merchantID && (status == "" || o.Status == status) && len(out) < limit {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *fakeStore) OrderEvents(_ context.Context, orderID string) ([]models.OrderEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[orderID], nil
}

func (s *fakeStore) ClaimIdempotencyKey(_ context.Context, scope, key, hash, orderID string) (store.IdempotencyRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scope + "\x00" + key
	if r, ok := s.claims[k]; ok {
		return r, false, nil
	}
	r := store.IdempotencyRecord{Scope: scope, Key: key, RequestHash: hash, OrderID: orderID, CreatedAt: time.Now()}
	s.claims[k] = r
	return r, true, nil
}

func (s *fakeStore) putOrder(o models.Order, events ...models.OrderEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.ID] = o
	s.events[o.ID] = events
}

// fakeHandle is a completed update: Get yields result (through JSON, like a
// real payload) or err.
type fakeHandle struct {
	result any
	err    error
}

func (h fakeHandle) WorkflowID() string { return "" }
func (h fakeHandle) RunID() string      { return "" }
func (h fakeHandle) UpdateID() string   { return "" }
func (h fakeHandle) Get(_ context.Context, ptr any) error {
	if h.err != nil {
		return h.err
	}
	b, err := json.Marshal(h.result)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

type fakeStartOp struct{}

func (fakeStartOp) Get(context.Context) (client.WorkflowRun, error) { return nil, nil }

const testSecret = "test-secret-0123456789abcdef0123"

// env is one API under test with its fakes.
type env struct {
	t        testing.TB
	store    *fakeStore
	temporal *mocks.Client
	handler  http.Handler
	registry *prometheus.Registry
}

const (
	buyerA    = "buyer_a"
	buyerB    = "buyer_b"
	merchantA = "mer_a"
	merchantB = "mer_b"
	keyA      = "mk_merchant_a_key"
	keyB      = "mk_merchant_b_key"
	productID = "prod_widget"
)

func newEnv(t testing.TB, tweak ...func(*Config)) *env {
	t.Helper()
	st := newFakeStore()
	st.merchants[keyA] = models.Merchant{ID: merchantA, Name: "A", Active: true}
	st.merchants[keyB] = models.Merchant{ID: merchantB, Name: "B", Active: true}
	st.merchants["mk_inactive"] = models.Merchant{ID: "mer_off", Name: "Off", Active: false}
	st.products[productID] = models.Product{ID: productID, MerchantID: merchantA, Title: "Widget",
		PriceMinor: 1500, Currency: "usd", Stock: 5, MaxPerOrder: 3, Active: true}
	st.products["prod_off"] = models.Product{ID: "prod_off", MerchantID: merchantA, Title: "Old",
		PriceMinor: 100, Currency: "usd", Stock: 5, Active: false}
	tc := mocks.NewClient(t)
	reg := prometheus.NewRegistry()
	cfg := Config{
		Store: st, Temporal: tc, TaskQueue: "checkout", BuyerTokenSecret: []byte(testSecret),
		PayWait: 2 * time.Second, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Registry: reg,
		// Everyone is in and nothing is limited unless a test says otherwise,
		// so tests of other pieces do not depend on those policies.
		Rollout:    mustGate(t, rollout.Settings{Percent: 100}),
		RateLimits: RateLimits{IP: RateLimit{Off: true}, Buyer: RateLimit{Off: true}, Merchant: RateLimit{Off: true}},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return &env{t: t, store: st, temporal: tc, handler: New(cfg), registry: reg}
}

func (e *env) buyerToken(id string) string {
	e.t.Helper()
	tok, err := MintBuyerToken([]byte(testSecret), id, time.Hour)
	require.NoError(e.t, err)
	return tok
}

type req struct {
	method, path, body string
	auth               string            // full Authorization value
	headers            map[string]string // extra headers; Content-Type defaults to JSON when body is set
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.auth != "" {
		hr.Header.Set("Authorization", r.auth)
	}
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, hr)
	return w
}

func bearerOf(tok string) string { return "Bearer " + tok }

// decodeBody parses a JSON answer, failing the test on anything else.
func decodeBody(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"), "body: %s", w.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), "body: %s", w.Body.String())
	return m
}

// requireError checks the status and the one error shape, and returns the code.
func requireError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, w.Code, "body: %s", w.Body.String())
	m := decodeBody(t, w)
	eo, ok := m["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", w.Body.String())
	require.NotEmpty(t, eo["message"], "error without message: %s", w.Body.String())
	if code != "" {
		require.Equal(t, code, eo["code"], "body: %s", w.Body.String())
	} else {
		require.NotEmpty(t, eo["code"])
	}
}

// expectPay makes the next update-with-start answer with h.
func (e *env) expectPay(h client.WorkflowUpdateHandle, err error) *mock.Call {
	e.temporal.On("NewWithStartWorkflowOperation", mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return strings.HasPrefix(o.ID, "purchase-ord_") && o.TaskQueue == "checkout"
	}), workflows.PurchaseWorkflowName, mock.AnythingOfType("workflows.PurchaseInput")).Return(fakeStartOp{}).Maybe()
	return e.temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWithStartWorkflowOptions) bool {
		return o.UpdateOptions.UpdateID == workflows.PayUpdateID && o.UpdateOptions.UpdateName == workflows.UpdatePay &&
			o.UpdateOptions.WaitForStage == client.WorkflowUpdateStageCompleted && o.StartWorkflowOperation != nil
	})).Return(h, err)
}
