package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/buybutton/checkout/metrics"
)

// processMetrics is the process's one registry: in `checkout dev` the api
// and the worker share it, so the API's /metrics shows the worker's
// counters and Temporal SDK metrics too.
var processMetrics = sync.OnceValue(func() *metrics.Set {
	s, err := metrics.New()
	if err != nil {
		// Only a duplicate registration can fail here, which is a bug.
		panic(err)
	}
	return s
})

// serveMetrics serves /metrics at addr until ctx ends; with no addr it just
// waits for ctx. It is a listener of its own, never the API's: the API is
// public, metrics are for the operators' scraper.
func serveMetrics(ctx context.Context, addr string) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", processMetrics().Handler())
	slog.Info("metrics listening", "addr", addr)
	return serveHTTP(ctx, addr, mux)
}
