package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	duration *prometheus.HistogramVec
}

// metricsRegistry picks where metrics go.
func metricsRegistry(r prometheus.Registerer) prometheus.Registerer {
	if r == nil {
		return prometheus.NewRegistry()
	}
	return r
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Duration of HTTP requests by method, route template and status.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})
	return &httpMetrics{duration: registerOrReuse(reg, h)}
}

// registerOrReuse registers c, or returns the collector already registered
// under its name: a second handler on the same registry (tests, a restart
// in-process) shares the collector instead of failing.
func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// codecMetrics count the codec server's calls: every decode reveals
// personal data, so how many and how often is watched.
type codecMetrics struct {
	requests *prometheus.CounterVec
	payloads *prometheus.CounterVec
}

func newCodecMetrics(reg prometheus.Registerer) *codecMetrics {
	return &codecMetrics{
		requests: registerOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkout_codec_requests_total",
			Help: "Codec server calls by operation (decode, encode) and outcome (ok, refused, error).",
		}, []string{"op", "outcome"})),
		payloads: registerOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkout_codec_payloads_total",
			Help: "Payloads decoded or encoded by the codec server.",
		}, []string{"op"})),
	}
}

func (m *httpMetrics) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.duration.WithLabelValues(methodLabel(c.Request.Method), routeLabel(c), strconv.Itoa(c.Writer.Status())).
			Observe(time.Since(start).Seconds())
	}
}

// methodLabel keeps client-chosen method names from growing the label set.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
