// Command checkout-bench measures the purchase path over the real parts — a
// Temporal dev server, the store, the Stripe sandbox spoken to over HTTP by
// stripe-go, the worker and the HTTP API — and prints figures: throughput and
// latency of POST /v1/purchases (the buyer's answer), and of the merchant's
// accept (the capture).
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
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

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
	n := flag.Int("n", 200, "purchases to make")
	c := flag.Int("c", 16, "purchases in flight at once")
	accept := flag.Bool("accept", true, "also accept (capture) every authorized order")
	dbURL := flag.String("db", "", "DATABASE_URL for the store (default: a SQLite file in a temp dir)")
	persist := flag.Bool("persist", false, "run the Temporal dev server on a SQLite file instead of in memory")
	save := flag.Bool("save", true, "buyers save their details (a first purchase: Stripe customer + card attach)")
	flag.Parse()
	saveDetails = *save
	if err := run(*n, *c, *accept, *dbURL, *persist); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// saveDetails is sent with every purchase (-save).
var saveDetails = true

type env struct {
	apiURL      string
	secret      []byte
	merchantKey string
	cleanup     []func()
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

func run(n, c int, accept bool, dbURL string, persist bool) error {
	tmp, err := os.MkdirTemp("", "checkout-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e, err := start(tmp, dbURL, persist)
	if err != nil {
		return err
	}
	defer e.close()

	productID, err := e.createProduct(n)
	if err != nil {
		return err
	}
	// Warm up connections and the worker's caches; not measured.
	// Keys are unique per run, so a reused database never replays old answers.
	run := time.Now().UnixNano()
	if code, _, err := e.purchase(e.token(-1), fmt.Sprintf("bench-%d-warmup", run), productID); err != nil || code != http.StatusCreated {
		return fmt.Errorf("warm-up purchase: HTTP %d %v", code, err)
	}

	payLat := make([]time.Duration, n)
	orders := make([]string, n)
	statuses := map[int]int{}
	var mu sync.Mutex
	began := time.Now()
	forEach(n, c, func(i int) {
		t0 := time.Now()
		code, orderID, err := e.purchase(e.token(i), fmt.Sprintf("bench-%d-%d", run, i), productID)
		payLat[i] = time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			statuses[-1]++
			return
		}
		statuses[code]++
		if code == http.StatusCreated {
			orders[i] = orderID
		}
	})
	payWall := time.Since(began)

	fmt.Printf("setup: Temporal dev server (%s), store %s, Stripe sandbox over HTTP, 1 worker, %d cores\n",
		map[bool]string{true: "SQLite file", false: "in memory"}[persist], storeKind(dbURL), runtimeCPU())
	fmt.Printf("purchases: %d, concurrency %d, save_details %t, answers by HTTP status %v\n", n, c, saveDetails, statuses)
	fmt.Printf("POST /v1/purchases  throughput %.1f/s  latency %s\n", float64(n)/payWall.Seconds(), summary(payLat))

	if statuses[http.StatusCreated] != n {
		return fmt.Errorf("only %d of %d purchases were authorized", statuses[http.StatusCreated], n)
	}
	if accept {
		var accLat []time.Duration
		began = time.Now()
		forEach(n, c, func(i int) {
			if orders[i] == "" {
				return
			}
			t0 := time.Now()
			code, err := e.post("/v1/merchant/orders/"+orders[i]+"/accept", e.merchantKey, nil, nil)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && code == http.StatusOK {
				accLat = append(accLat, d)
			}
		})
		fmt.Printf("POST …/accept       throughput %.1f/s  latency %s  (%d captured)\n",
			float64(len(accLat))/time.Since(began).Seconds(), summary(accLat), len(accLat))
	}
	return nil
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
	opts := testsuite.DevServerOptions{
		ExistingPath:     cli,
		LogLevel:         "error",
		SearchAttributes: workflows.SearchAttributesSchema(),
		Stdout:           io.Discard,
		Stderr:           io.Discard,
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

	sb := sandbox.New(sandbox.Options{})
	sbSrv := httptest.NewServer(sb)
	e.cleanup = append(e.cleanup, sbSrv.Close, sb.Close)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dc, fc := codec.ClientOptions(ring)
	tc, err := client.Dial(client.Options{HostPort: ds.FrontendHostPort(), Logger: tlog.NewStructuredLogger(quiet),
		DataConverter: dc, FailureConverter: fc})
	if err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, tc.Close)

	const taskQueue = "bench"
	w, err := worker.New(tc, taskQueue, &activities.Activities{
		Store:    st,
		Payments: payments.New(payments.Config{SecretKey: "sk_test_bench", APIBase: sbSrv.URL}),
		Notifier: notify.NewLocalSender(5 * time.Second),
		Logger:   quiet,
	}, worker.Options{})
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, w.Stop)

	e.secret = []byte("bench-secret")
	apiCfg, err := benchAPIConfig(api.Config{
		Store:            st,
		Temporal:         tc,
		TaskQueue:        taskQueue,
		BuyerTokenSecret: e.secret,
		PayWait:          30 * time.Second,
		Logger:           quiet,
	})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(api.New(apiCfg))
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

// token signs a buyer token; every purchase comes from its own buyer, as in life.
func (e *env) token(i int) string {
	tok, err := api.MintBuyerToken(e.secret, fmt.Sprintf("buyer_bench_%d", i+1), time.Hour)
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

func (e *env) purchase(token, key, productID string) (int, string, error) {
	body := map[string]any{
		"product_id": productID, "quantity": 1, "payment_method": "pm_card_visa", "save_details": saveDetails,
		"shipping_address": map[string]string{"name": "Bench Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	code, err := e.postWith("/v1/purchases", token, map[string]string{"Idempotency-Key": key}, body, &out)
	return code, out.OrderID, err
}

func (e *env) post(path, bearer string, body, out any) (int, error) {
	return e.postWith(path, bearer, nil, body, out)
}

func (e *env) postWith(path, bearer string, headers map[string]string, body, out any) (int, error) {
	var rdr io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPost, e.apiURL+path, rdr)
	if err != nil {
		return 0, err
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
		return 0, err
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode, nil
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

func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n/a"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))].Round(100 * time.Microsecond) }
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", pct(0.50), pct(0.90), pct(0.99), s[len(s)-1].Round(100*time.Microsecond))
}

func storeKind(dbURL string) string {
	if dbURL == "" {
		return "SQLite (file)"
	}
	return "Postgres"
}
