package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: http.MethodGet, path: "/healthz"})
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "ok", decodeBody(t, w)["status"])

	e.temporal.On("CheckHealth", mock.Anything, mock.Anything).Return(&client.CheckHealthResponse{}, nil).Once()
	w = e.do(req{method: http.MethodGet, path: "/readyz"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	e.store.pingErr = errors.New("db down")
	e.temporal.On("CheckHealth", mock.Anything, mock.Anything).Return(nil, errors.New("no server")).Once()
	w = e.do(req{method: http.MethodGet, path: "/readyz"})
	requireError(t, w, http.StatusServiceUnavailable, codeNotReady)
	checks := decodeBody(t, w)["checks"].(map[string]any)
	require.Equal(t, map[string]any{"store": "unavailable", "temporal": "unavailable"}, checks)
}

func TestUnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	e := newEnv(t)
	requireError(t, e.do(req{method: http.MethodGet, path: "/nope"}), http.StatusNotFound, codeRouteNotFound)
	requireError(t, e.do(req{method: http.MethodGet, path: "/v1/purchases/"}), http.StatusNotFound, codeRouteNotFound)
	requireError(t, e.do(req{method: http.MethodDelete, path: "/v1/purchases"}), http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

func TestEveryAnswerCarriesRequestIDAndSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{method: http.MethodGet, path: "/healthz", headers: map[string]string{"X-Request-Id": "abc-123"}})
	require.Equal(t, "abc-123", w.Header().Get("X-Request-Id"))
	require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	// A request id that could forge log lines is replaced.
	w = e.do(req{method: http.MethodGet, path: "/nope", headers: map[string]string{"X-Request-Id": "a\"b"}})
	require.NotEqual(t, `a"b`, w.Header().Get("X-Request-Id"))
	require.Len(t, w.Header().Get("X-Request-Id"), 36)
}

func TestMetricsByRouteTemplate(t *testing.T) {
	e := newEnv(t)
	e.do(req{method: http.MethodGet, path: "/v1/products/prod_widget"})
	e.do(req{method: http.MethodGet, path: "/v1/products/prod_other"})
	// /metrics is not on the API's listener (cmd serves it on METRICS_ADDR).
	requireError(t, e.do(req{method: http.MethodGet, path: "/metrics"}), http.StatusNotFound, codeRouteNotFound)
	w := httptest.NewRecorder()
	promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := w.Body.String()
	require.Contains(t, body, `http_request_duration_seconds_count{method="GET",route="/v1/products/:id",status="200"} 1`)
	require.Contains(t, body, `http_request_duration_seconds_count{method="GET",route="/v1/products/:id",status="404"} 1`)
	require.NotContains(t, body, "prod_widget")
	// The purchase admission's state, before any purchase.
	require.Contains(t, body, "checkout_admission_limit 32\n")
	require.Contains(t, body, "checkout_admission_in_flight 0\n")
	require.Contains(t, body, "checkout_admission_queued 0\n")
	require.Contains(t, body, "checkout_admission_tolerated_answer_seconds 0.6\n")
	require.Contains(t, body, `checkout_admission_refused_total{reason="at_once"} 0`)

	// A second handler on the same registry must not panic.
	require.NotPanics(t, func() { New(Config{Store: e.store, Registry: e.registry}) })
}

func TestPanicsAnswerJSON500(t *testing.T) {
	e := newEnv(t)
	r := e.handler.(*gin.Engine)
	r.GET("/panic", func(*gin.Context) { panic("kaboom") })
	w := e.do(req{method: http.MethodGet, path: "/panic"})
	requireError(t, w, http.StatusInternalServerError, "internal")
	require.False(t, strings.Contains(w.Body.String(), "kaboom"))
}
