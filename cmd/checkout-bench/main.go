// Command checkout-bench measures the purchase path over the real parts — a
// Temporal dev server, the store, the Stripe sandbox spoken to over HTTP by
// stripe-go, the worker and the HTTP API — beside an engine-only shape (a
// checkout-shaped workflow with no product code whose activities do no I/O)
// on the same server, in alternating rounds, and prints both side by side
// with their ratios; then the history one purchase records from purchase to
// delivered, and with -overload how the API holds at 8× the concurrency.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/notify"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/toolpath"
	"github.com/buybutton/checkout/worker"
	"github.com/buybutton/checkout/workflows"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100, "purchases (and engine workflows) per round")
	flag.IntVar(&o.c, "c", 8, "purchases (and engine workflows) in flight at once")
	flag.IntVar(&o.rounds, "rounds", 3, "alternating rounds of the engine-only shape and the product")
	flag.BoolVar(&o.accept, "accept", false, "also accept (capture) every authorized order after each product round")
	flag.StringVar(&o.dbURL, "db", "", "DATABASE_URL for the store (default: a SQLite file in a temp dir)")
	flag.BoolVar(&o.persist, "persist", false, "run the Temporal dev server on a SQLite file instead of in memory")
	flag.BoolVar(&saveDetails, "save", false, "buyers save their details (a first purchase: Stripe customer + card attach)")
	flag.BoolVar(&engineLocal, "engine-local", false, "the engine-only shape runs its charge and notify as local activities too")
	flag.BoolVar(&eagerActivities, "eager", true, "the dev server dispatches activities eagerly (as make dev runs it)")
	flag.IntVar(&taskQueuePartitions, "partitions", 1, "task-queue partitions of the dev server (as make dev runs it; the server's default is 4)")
	flag.BoolVar(&o.overload, "overload", false, "after the rounds, find the saturating concurrency, offer 8× it and report goodput, refusals and p99 of the admitted")
	flag.IntVar(&o.saturation, "saturation", 0, "with -overload: the saturating concurrency, instead of stepping -c up to find it")
	flag.BoolVar(&o.killWorker, "kill-worker", false, "instead of the rounds: run the worker as a process, kill -9 it mid-traffic, start a new one, and print how long its orders were held up (needs -db)")
	flag.BoolVar(&oneTap, "onetap", false, "the product's purchases are one-tap repeat purchases by -c buyers who saved their details first (-c 1: sequential)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the rounds to this file, labelled by component (api, worker, sandbox, engine, bench)")
	flag.BoolVar(&showHistory, "show-history", false, "print every event of the histories read back (one purchase to delivered, one engine-only workflow)")
	flag.Parse()
	if o.n < 1 || o.c < 1 || o.rounds < 1 || taskQueuePartitions < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n, -c, -rounds and -partitions must be at least 1")
		os.Exit(2)
	}
	if o.killWorker && o.dbURL == "" {
		fmt.Fprintln(os.Stderr, "bench: -kill-worker needs -db (a Postgres URL): two processes share the store")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	n, c, rounds     int
	accept, overload bool
	persist          bool
	killWorker       bool
	saturation       int
	dbURL            string
}

// eagerActivities is -eager, taskQueuePartitions -partitions.
var (
	eagerActivities     = true
	taskQueuePartitions = 1
)

// saveDetails is sent with every purchase (-save).
var saveDetails = false

type env struct {
	apiURL      string
	secret      []byte
	merchantKey string
	temporal    client.Client
	cleanup     []func()
	// workerEnv is what `checkout worker` needs to join the setup
	// (-kill-worker); stopWorker stops the in-process one.
	workerEnv  []string
	stopWorker func()
	// metrics is the API's registry (the overload mode prints the
	// admission's state from it).
	metrics *prometheus.Registry
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

// overloadFactor multiplies the concurrency in -overload.
const overloadFactor = 8

func run(o options) error {
	tmp, err := os.MkdirTemp("", "checkout-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The load generator's goroutines, and the ones they start, are the bench's.
	pprof.SetGoroutineLabels(labelled(context.Background(), componentBench))
	e, err := start(tmp, o.dbURL, o.persist)
	if err != nil {
		return err
	}
	defer e.close()

	stock := o.n*o.rounds + 10
	if o.overload || o.killWorker {
		stock += overloadStock
	}
	productID, err := e.createProduct(stock)
	if err != nil {
		return err
	}
	// Warm up connections and the workers' caches; not measured.
	// Keys are unique per run, so a reused database never replays old answers.
	runID := time.Now().UnixNano()
	warm := fmt.Sprintf("bench-%d-warmup", runID)
	if a := e.purchase(e.token("buyer-"+warm), warm, productID); a.err != nil || a.code != http.StatusCreated {
		return fmt.Errorf("warm-up purchase: HTTP %d %v", a.code, a.err)
	}
	if _, err := engineOne(e.temporal, fmt.Sprintf("engine-%d-warmup", runID)); err != nil {
		return fmt.Errorf("warm-up engine workflow: %w", err)
	}
	if oneTap {
		if err := e.saveOneTapBuyers(fmt.Sprintf("bench-%d-onetap", runID), productID, o.c); err != nil {
			return err
		}
	}
	settle()
	m, err := startMeasurement()
	if err != nil {
		return err
	}

	fmt.Printf("setup: Temporal dev server %s (%s, eager activities %t, %d task-queue partitions), store %s, Stripe sandbox over HTTP, 1 product worker + 1 engine worker, %d cores, load average %s\n",
		devServerVersion(), map[bool]string{true: "SQLite file", false: "in memory"}[o.persist], eagerActivities, taskQueuePartitions, storeKind(o.dbURL), runtimeCPU(), loadAverage())
	if o.killWorker {
		return e.killWorkerRun(tmp, fmt.Sprintf("bench-%d-kill", runID), productID, o.n, o.c)
	}
	fmt.Printf("rounds: %d alternating, %d per round, %d in flight, save_details %t, one-tap %t, engine activities %s\n\n",
		o.rounds, o.n, o.c, saveDetails, oneTap, map[bool]string{true: "all local", false: "validate local, charge and notify regular"}[engineLocal])

	var engRate, engLife, prodRate []float64
	var engLat, prodLat []time.Duration
	var lastOrder string
	var allOrders []string
	for r := range o.rounds {
		engineFirst := r%2 == 0
		for side := range 2 {
			if (side == 0) == engineFirst {
				res := engineRound(e.temporal, fmt.Sprintf("engine-%d-%d", runID, r), o.n, o.c)
				engRate = append(engRate, res.perSec)
				engLife = append(engLife, res.lifecyclePerSec)
				engLat = append(engLat, res.lat...)
				fmt.Printf("round %d engine-only  %6.1f wf/s         pay %s  (%.1f/s to completion, %d failed)\n",
					r+1, res.perSec, summary(res.lat), res.lifecyclePerSec, res.failed)
				continue
			}
			res, orders := e.productRound(fmt.Sprintf("bench-%d-%d", runID, r), productID, o.n, o.c)
			prodRate = append(prodRate, res.perSec)
			prodLat = append(prodLat, res.lat...)
			fmt.Printf("round %d product      %6.1f purchases/s  pay %s  (%d not authorized)\n", r+1, res.perSec, summary(res.lat), res.failed)
			if len(orders) > 0 {
				lastOrder = orders[0]
			}
			allOrders = append(allOrders, orders...)
			if o.accept {
				e.acceptRound(orders, o.c)
			}
		}
	}

	fmt.Println()
	fmt.Printf("| %d in flight | engine-only | product | ratio |\n|---|---|---|---|\n", o.c)
	er, pr := mean(engRate), mean(prodRate)
	fmt.Printf("| pay answers/s | %.1f wf/s | %.1f purchases/s | %.2f× |\n", er, pr, ratio(pr, er))
	for _, q := range []struct {
		name string
		p    float64
	}{{"pay answer p50", 0.50}, {"pay answer p99", 0.99}} {
		ep, pp := percentile(engLat, q.p), percentile(prodLat, q.p)
		fmt.Printf("| %s | %s | %s | %.2f× |\n", q.name, ms(ep), ms(pp), durRatio(pp, ep))
	}
	fmt.Printf("(engine-only workflows run to completion, signals included: %.1f/s)\n", mean(engLife))
	if err := m.finish(o.n * o.rounds); err != nil {
		return err
	}
	if err := printWaitingPath(os.Stdout, e.temporal, allOrders); err != nil {
		return fmt.Errorf("waiting path: %w", err)
	}
	fmt.Println()

	if lastOrder != "" {
		h, err := e.purchaseToDelivered(lastOrder)
		if err != nil {
			return fmt.Errorf("purchase to delivered: %w", err)
		}
		fmt.Printf("one purchase, purchase to delivered: %s\n", h)
	}
	engID := fmt.Sprintf("engine-%d-warmup", runID)
	if h, err := readHistory(context.Background(), e.temporal, engID); err == nil {
		fmt.Printf("one engine-only workflow:            %s\n", h)
	}

	if o.overload {
		e.overload(fmt.Sprintf("bench-%d-overload", runID), productID, o)
	}
	return nil
}

// answer is what the buyer got back from POST /v1/purchases.
type answer struct {
	code       int
	orderID    string
	retryAfter bool
	err        error
}

// purchases makes n purchases, c at a time, each from its own buyer, and
// hands every answer and the buyer's wait for it to got (one at a time). It
// returns the wall time of the whole.
func (e *env) purchases(prefix, productID string, n, c int, got func(a answer, wait time.Duration)) time.Duration {
	var mu sync.Mutex
	began := time.Now()
	forEach(n, c, func(i int) {
		t0 := time.Now()
		key := fmt.Sprintf("%s-%d", prefix, i)
		a := e.buy(i, key, productID)
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		got(a, d)
	})
	return time.Since(began)
}

// productRound makes n purchases, c at a time; the latency is the buyer's
// wait for an authorized (201) answer. It returns the authorized orders.
func (e *env) productRound(prefix, productID string, n, c int) (roundResult, []string) {
	var res roundResult
	var orders []string
	wall := e.purchases(prefix, productID, n, c, func(a answer, d time.Duration) {
		if a.err != nil || a.code != http.StatusCreated {
			res.failed++
			return
		}
		res.lat = append(res.lat, d)
		orders = append(orders, a.orderID)
	})
	res.perSec = float64(len(res.lat)) / wall.Seconds()
	return res, orders
}

type overloadResult struct {
	offered, admitted, refused, refusedBare, other int
	statuses                                       map[int]int
	goodput                                        float64
	lat                                            []time.Duration
}

func (e *env) acceptRound(orders []string, c int) {
	var mu sync.Mutex
	var lat []time.Duration
	began := time.Now()
	forEach(len(orders), c, func(i int) {
		t0 := time.Now()
		code, err := e.post("/v1/merchant/orders/"+orders[i]+"/accept", e.merchantKey, nil, nil)
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && code == http.StatusOK {
			lat = append(lat, d)
		}
	})
	fmt.Printf("        accept       %6.1f/s           %s  (%d of %d captured)\n",
		float64(len(lat))/time.Since(began).Seconds(), summary(lat), len(lat), len(orders))
}

// purchaseToDelivered takes one authorized order through accept, ship and
// deliver (which ends its workflow) and reads its history back.
func (e *env) purchaseToDelivered(orderID string) (historyCounts, error) {
	steps := []struct {
		path string
		body any
	}{
		{"accept", nil},
		{"ship", map[string]string{"carrier": "UPS", "tracking_number": "1Z999"}},
		{"deliver", nil},
	}
	for _, s := range steps {
		code, err := e.post("/v1/merchant/orders/"+orderID+"/"+s.path, e.merchantKey, s.body, nil)
		if err != nil {
			return historyCounts{}, err
		}
		// An accept already made by -accept answers as it did.
		if code != http.StatusOK {
			return historyCounts{}, fmt.Errorf("%s: HTTP %d", s.path, code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := workflows.WorkflowID(orderID)
	if err := e.temporal.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		return historyCounts{}, fmt.Errorf("workflow did not complete: %w", err)
	}
	return readHistory(ctx, e.temporal, id)
}

func start(tmp, dbURL string, persist bool) (*env, error) {
	e := &env{}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	cli, err := toolpath.Find("TEMPORAL_CLI", "temporal")
	if err != nil {
		return nil, err
	}
	temporalCLI = cli
	opts := testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		SearchAttributes: workflows.SearchAttributesSchema(),
		Stdout:           io.Discard,
		Stderr:           io.Discard,
	}
	// Eager activity execution: the worker that completes a workflow task
	// scheduling an activity gets the activity in the answer, instead of
	// through the matching service (what `make dev` runs, -eager=false to
	// measure without).
	opts.ExtraArgs = []string{"--dynamic-config-value", fmt.Sprintf("system.enableActivityEagerExecution=%t", eagerActivities)}
	// Task-queue partitions: with more than one, a task written to a
	// partition no poller waits on is forwarded, and on this single-node
	// server some answers stall about 2 s (what -partitions 4, the server's
	// default, shows).
	for _, k := range []string{"matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"} {
		opts.ExtraArgs = append(opts.ExtraArgs, "--dynamic-config-value", fmt.Sprintf("%s=%d", k, taskQueuePartitions))
	}
	if persist {
		opts.DBFilename = filepath.Join(tmp, "temporal.db")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start dev server: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { _ = ds.Stop() })

	spec, err := keyring.Generate()
	if err != nil {
		return nil, err
	}
	ring, err := keyring.Parse(spec)
	if err != nil {
		return nil, err
	}
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(tmp, "checkout.db")
	}
	st, err := store.Open(ctx, dbURL, ring)
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := countStatements(st.DB()); err != nil {
		return nil, err
	}

	sb := sandbox.New(sandbox.Options{})
	sbSrv := serveAs(componentSandbox, countStripe(sb))
	e.cleanup = append(e.cleanup, sbSrv.Close, sb.Close)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dc, fc := codec.ClientOptions(ring)
	tc, err := client.Dial(client.Options{HostPort: ds.FrontendHostPort(), Logger: tlog.NewStructuredLogger(quiet),
		DataConverter: dc, FailureConverter: fc})
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, tc.Close)
	e.temporal = tc
	var ew interface{ Stop() }
	as(componentEngine, func(context.Context) { ew, err = startEngineWorker(tc) })
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, ew.Stop)

	// The API and the worker each have their own client, as in production:
	// their calls are counted and their CPU labelled apart.
	slog.SetDefault(countingLogger(""))
	workerTC, err := dialAs(componentWorker, ds.FrontendHostPort(), ring)
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, workerTC.Close)
	apiTC, err := dialAs(componentAPI, ds.FrontendHostPort(), ring)
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, apiTC.Close)

	const taskQueue = "bench"
	w, err := worker.New(workerTC, taskQueue, &activities.Activities{
		Store:    st,
		Payments: payments.New(payments.Config{SecretKey: "sk_test_bench", APIBase: sbSrv.URL}),
		Notifier: notify.NewLocalSender(5 * time.Second),
		Logger:   countingLogger(componentWorker),
	}, worker.Options{})
	if err != nil {
		return nil, err
	}
	as(componentWorker, func(context.Context) { err = w.Start() })
	if err != nil {
		return nil, err
	}
	var stopOnce sync.Once
	e.stopWorker = func() { stopOnce.Do(w.Stop) }
	e.cleanup = append(e.cleanup, e.stopWorker)
	e.workerEnv = []string{"TEMPORAL_ADDRESS=" + ds.FrontendHostPort(), "TASK_QUEUE=" + taskQueue, "DATABASE_URL=" + dbURL,
		"CHECKOUT_ENCRYPTION_KEYS=" + spec, "STRIPE_SECRET_KEY=sk_test_bench", "STRIPE_PUBLISHABLE_KEY=pk_test_bench", "STRIPE_API_BASE=" + sbSrv.URL, "METRICS_ADDR="}

	e.secret = []byte("bench-secret")
	e.metrics = prometheus.NewRegistry()
	apiCfg, err := benchAPIConfig(api.Config{
		Store:            st,
		Temporal:         apiTC,
		TaskQueue:        taskQueue,
		BuyerTokenSecret: e.secret,
		PayWait:          30 * time.Second,
		Logger:           countingLogger(componentAPI),
		Registry:         e.metrics,
	})
	if err != nil {
		return nil, err
	}
	srv := serveAs(componentAPI, api.New(apiCfg))
	e.cleanup = append(e.cleanup, srv.Close)
	e.apiURL = srv.URL

	m, key, err := st.CreateMerchant(ctx, "Bench Merchant", "")
	if err != nil {
		return nil, err
	}
	if err := onboardMerchant(ctx, payments.New(payments.Config{SecretKey: "sk_test_bench", APIBase: sbSrv.URL}), st, m.ID); err != nil {
		return nil, err
	}
	e.merchantKey = key
	ok = true
	return e, nil
}

// token signs a buyer token. Every purchase comes from its own buyer, new in
// this run (the buyer id carries the run's purchase key), so with -save every
// purchase is a first one, even on a reused database.
func (e *env) token(buyerID string) string {
	tok, err := api.MintBuyerToken(e.secret, buyerID, time.Hour)
	if err != nil {
		panic(err) // HS256 signing with a fixed key cannot fail
	}
	return tok
}

func (e *env) createProduct(n int) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	np := models.NewProduct{Title: "Bench mug", Price: 1200, Currency: "usd", Stock: n + 10}
	code, err := e.post("/v1/products", e.merchantKey, np, &out)
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated {
		return "", fmt.Errorf("create product: HTTP %d", code)
	}
	return out.ID, nil
}

func (e *env) purchase(token, key, productID string) answer {
	return e.purchaseWith(token, key, purchaseBody(productID))
}

// purchaseWith sends one purchase with this body.
func (e *env) purchaseWith(token, key string, body map[string]any) answer {
	var out struct {
		OrderID string `json:"order_id"`
	}
	code, hdr, err := e.send("/v1/purchases", token, map[string]string{"Idempotency-Key": key}, body, &out)
	return answer{code: code, orderID: out.OrderID, retryAfter: hdr.Get("Retry-After") != "", err: err}
}

func purchaseBody(productID string) map[string]any {
	return map[string]any{
		"product_id": productID, "quantity": 1, "payment_method": "pm_card_visa", "save_details": saveDetails,
		"shipping_address": map[string]string{"name": "Bench Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
	}
}

func (e *env) post(path, bearer string, body, out any) (int, error) {
	code, _, err := e.send(path, bearer, nil, body, out)
	return code, err
}

func (e *env) send(path, bearer string, headers map[string]string, body, out any) (int, http.Header, error) {
	return e.do(http.MethodPost, path, bearer, headers, body, out)
}

func (e *env) get(path, bearer string) (int, error) {
	code, _, err := e.do(http.MethodGet, path, bearer, nil, nil, nil)
	return code, err
}

func (e *env) do(method, path, bearer string, headers map[string]string, body, out any) (int, http.Header, error) {
	var rdr io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.apiURL+path, rdr)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode, res.Header, nil
}

// forEach runs f(0..n-1) with at most c calls in flight.
func forEach(n, c int, f func(i int)) {
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

func storeKind(dbURL string) string {
	if dbURL == "" {
		return "SQLite (file)"
	}
	return "Postgres"
}
