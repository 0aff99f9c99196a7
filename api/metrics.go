package api

import (
	"errors"
	"math"
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

// admissionCollector reports the purchase admission (admission.go) as it is
// at each scrape: the limit, what is in flight and in line, the answer time
// it measures and the one it tolerates, and the refusals by reason.
type admissionCollector struct {
	a                                                   *admission
	limit, inFlight, queued, answer, tolerated, refused *prometheus.Desc
}

func newAdmissionCollector(a *admission) *admissionCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &admissionCollector{a: a,
		limit:     d("checkout_admission_limit", "Purchases the API admits to wait on Temporal at once (it follows the answer time)."),
		inFlight:  d("checkout_admission_in_flight", "Admitted purchases waiting for their answer."),
		queued:    d("checkout_admission_queued", "Purchases standing in line for a place."),
		answer:    d("checkout_admission_answer_seconds", "Short average of purchase answer times."),
		tolerated: d("checkout_admission_tolerated_answer_seconds", "Answer time past which the limit falls (tolerance × baseline)."),
		refused:   d("checkout_admission_refused_total", "Purchases refused with 503 busy, by reason: at_once (the answer could not come in time), in_line (its place did not come in time).", "reason"),
	}
}

func (c *admissionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.limit, c.inFlight, c.queued, c.answer, c.tolerated, c.refused} {
		ch <- d
	}
}

func (c *admissionCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.a.snapshot()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(c.limit, math.Floor(s.limit))
	gauge(c.inFlight, float64(s.inFlight))
	gauge(c.queued, float64(s.queued))
	gauge(c.answer, s.answer.Seconds())
	gauge(c.tolerated, s.tolerated.Seconds())
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.refused[refusedAtOnce]), "at_once")
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.refused[refusedInLine]), "in_line")
}

// registerAdmission exports a's state and how long admitted purchases stood
// in line.
func registerAdmission(reg prometheus.Registerer, a *admission) {
	registerOrReuse(reg, prometheus.Collector(newAdmissionCollector(a)))
	a.waits = registerOrReuse(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "checkout_admission_wait_seconds",
		Help:    "How long purchases admitted from the line stood in it.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}))
}
