package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/workflows"
)

// captureHandler keeps every record with its attributes, those added by
// Logger.With included.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]map[string]string
	attrs   []slog.Attr
}

func newCaptureHandler() *captureHandler {
	return &captureHandler{mu: &sync.Mutex{}, records: &[]map[string]string{}}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]string{"msg": r.Message}
	for _, a := range h.attrs {
		rec[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, rec)
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// accessLines are the "http request" records, one per request.
func (h *captureHandler) accessLines() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range *h.records {
		if r["msg"] == "http request" {
			out = append(out, r)
		}
	}
	return out
}

func TestAccessLogCarriesTheOrder(t *testing.T) {
	capture := newCaptureHandler()
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(capture) })
	seedOrder(e, models.StatusAuthorized)
	buyer := bearerOf(e.buyerToken(buyerA))

	cases := []struct {
		name  string
		req   req
		route string
		order string // "" : no order fields
	}{
		{"buyer's order", req{method: http.MethodGet, path: "/v1/orders/" + orderA, auth: buyer}, "/v1/orders/:id", orderA},
		{"merchant's order action", req{method: http.MethodGet, path: "/v1/merchant/orders/" + orderA + "/deliveries", auth: bearerOf(keyA)},
			"/v1/merchant/orders/:id/deliveries", orderA},
		{"unknown order still named", req{method: http.MethodGet, path: "/v1/orders/ord_unknown", auth: buyer}, "/v1/orders/:id", "ord_unknown"},
		{"malformed id left out", req{method: http.MethodGet, path: "/v1/orders/ord%20x", auth: buyer}, "/v1/orders/:id", ""},
		{"route without an order", req{method: http.MethodGet, path: "/healthz"}, "/healthz", ""},
		{"product id is no order id", req{method: http.MethodGet, path: "/v1/products/" + productID}, "/v1/products/:id", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.do(tc.req)
			lines := capture.accessLines()
			require.Len(t, lines, i+1)
			line := lines[i]
			assert.Equal(t, tc.route, line["route"])
			assert.NotEmpty(t, line["request_id"])
			if tc.order == "" {
				assert.NotContains(t, line, "order_id")
				assert.NotContains(t, line, "workflow_id")
				return
			}
			assert.Equal(t, tc.order, line["order_id"])
			assert.Equal(t, workflows.WorkflowID(tc.order), line["workflow_id"])
		})
	}
}

// A purchase's lines carry the order it creates, refused ones included.
func TestPurchaseLogLinesCarryTheNewOrder(t *testing.T) {
	capture := newCaptureHandler()
	e := newEnv(t, func(c *Config) {
		c.Logger = slog.New(capture)
		c.Rollout = mustGate(t, rollout.Settings{Percent: 0})
	})
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: bearerOf(e.buyerToken(buyerA)),
		headers: map[string]string{"Idempotency-Key": "k-log-1"},
		body:    `{"product_id":"` + productID + `","quantity":1,"payment_method":"pm_card_visa","shipping_address":{"name":"Ada","line1":"1 St","city":"London","postal_code":"N1","country":"GB"}}`})
	require.GreaterOrEqual(t, w.Code, 400, w.Body.String())
	require.Less(t, w.Code, 500, w.Body.String())
	lines := capture.accessLines()
	require.Len(t, lines, 1)
	want := models.OrderIDFromIdempotencyKey(buyerA, "k-log-1")
	assert.Equal(t, want, lines[0]["order_id"])
	assert.Equal(t, workflows.WorkflowID(want), lines[0]["workflow_id"])
}
