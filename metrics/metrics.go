// Package metrics builds the one Prometheus registry a process serves on
// /metrics: Go and process collectors, the API's HTTP histogram (registered
// by package api) and, through OpenTelemetry, the Temporal SDK's metrics
// together with the counters the checkout emits through the SDK's metrics
// handler (purchases by outcome, webhook deliveries by outcome).
package metrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// latencyBuckets (seconds) span a local activity to a slow Stripe call.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Set is a process's registry and the Temporal metrics handler feeding it.
type Set struct {
	Registry *prometheus.Registry
	// Temporal goes into client.Options.MetricsHandler: the SDK's own
	// metrics, and workflow.GetMetricsHandler / activity.GetMetricsHandler
	// counters, which the SDK keeps from double counting on replay.
	Temporal client.MetricsHandler
}

// New builds a Set. Call it once per process: in `checkout dev` the api and
// the worker share it, so one /metrics shows both.
func New() (*Set, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus exporter: %w", err)
	}
	// The SDK's timers are in seconds; OpenTelemetry's default buckets are
	// meant for milliseconds and would put every latency in the first one.
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}})
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	handler := temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: provider.Meter("checkout"),
		// Counters only go up; exported as Prometheus counters (…_total)
		// they work with rate() and increase().
		UseMonotonicCounters: true,
		// A metric that cannot be recorded must not take the worker down.
		OnError: func(error) {},
	})
	return &Set{Registry: reg, Temporal: handler}, nil
}

// Handler serves the registry in the Prometheus text format.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}
