package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/grpc"

	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/keyring"
)

// The bench runs the API, the worker, the sandbox and the engine-only shape
// in one process. Each runs under its own pprof label (component=…), set
// when its goroutines are created — the HTTP servers' accept loops, the
// worker's pollers, each client's gRPC connection — and inherited by every
// goroutine they start, so one CPU profile (-cpuprofile) splits by
// component with `go tool pprof -tagfocus component=api`. The labels also
// travel in the contexts the API's requests and the worker's activities
// run with, which is how the counters (counters.go) tell their database
// statements and log lines apart.
//
// One process rather than a sandbox of its own: the label puts the
// sandbox's CPU apart just as well, the product's wiring stays the one
// `make dev` runs, and nothing else on this shared machine listens on a
// port for it.
const (
	componentAPI     = "api"
	componentWorker  = "worker"
	componentSandbox = "sandbox"
	componentEngine  = "engine"
	componentBench   = "bench" // the load generator
)

const componentLabel = "component"

// labelled is ctx carrying component's pprof label.
func labelled(ctx context.Context, component string) context.Context {
	return pprof.WithLabels(ctx, pprof.Labels(componentLabel, component))
}

// componentOf is the component whose label ctx carries, "" for none.
func componentOf(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	c, _ := pprof.Label(ctx, componentLabel)
	return c
}

// as runs f with the goroutine labelled component: goroutines f starts
// inherit the label.
func as(component string, f func(ctx context.Context)) {
	pprof.Do(context.Background(), pprof.Labels(componentLabel, component), f)
}

// serveAs starts an HTTP test server whose goroutines and request contexts
// carry component's label.
func serveAs(component string, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	as(component, func(ctx context.Context) {
		srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
		srv.Start()
	})
	return srv
}

// labelActivities is a worker interceptor that puts the worker's label on
// every activity's context, local activities included (their root context
// is the SDK's, not the goroutine's).
type labelActivities struct {
	interceptor.InterceptorBase
}

func (labelActivities) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &labelledActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type labelledActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *labelledActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	var out any
	var err error
	pprof.Do(ctx, pprof.Labels(componentLabel, componentWorker), func(ctx context.Context) {
		out, err = a.Next.ExecuteActivity(ctx, in)
	})
	return out, err
}

// dialAs connects a Temporal client whose gRPC connection runs under
// component's label and whose calls are counted for it; the worker's also
// labels its activities.
func dialAs(component, hostPort string, ring *keyring.Ring) (client.Client, error) {
	dc, fc := codec.ClientOptions(ring)
	opts := client.Options{
		HostPort: hostPort, DataConverter: dc, FailureConverter: fc,
		Logger: tlog.NewStructuredLogger(countingLogger(component)),
		ConnectionOptions: client.ConnectionOptions{
			DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(countTemporal(component))},
		},
	}
	if component == componentWorker {
		opts.Interceptors = []interceptor.ClientInterceptor{&labelActivities{}}
	}
	var tc client.Client
	var err error
	as(component, func(ctx context.Context) { tc, err = client.DialContext(ctx, opts) })
	return tc, err
}
