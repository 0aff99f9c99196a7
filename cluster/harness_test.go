//go:build cluster

package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
)

// checkoutBin is the checkout binary the cluster runs, built once.
var checkoutBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "checkout-cluster-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	checkoutBin = filepath.Join(dir, "checkout")
	build := exec.Command("go", "build", "-o", checkoutBin, "../cmd/checkout")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build checkout:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testCluster is a cluster of the test's own: free ports, its own three
// databases (dropped after), logs in a temporary folder (kept and named
// when the test fails).
type testCluster struct {
	*Cluster
	t     *testing.T
	store *store.Store
	http  *http.Client
}

type clusterOptions struct {
	env       []string
	workerEnv [][]string
	// buildID puts the workers under Worker Versioning as this build of
	// deployment DefaultDeployment.
	buildID string
}

func startCluster(t *testing.T, o clusterOptions) *testCluster {
	t.Helper()
	tools, err := FindTools()
	if err != nil {
		t.Fatalf("cluster tools (make cluster-tools): %v", err)
	}
	ports, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "checkout-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{
		Root: root, Dir: dir, Checkout: checkoutBin, Tools: tools,
		Postgres: Postgres{Host: "127.0.0.1", Port: 5432, User: "postgres"},
		DBPrefix: "clustertest_" + randomHex(6),
		Ports:    ports,
		Env: append([]string{
			"ROLLOUT_PERCENT=100",
			"LOG_LEVEL=warn",
		}, o.env...),
		WorkerEnv: o.workerEnv,
	}
	if o.buildID != "" {
		spec.Deployment, spec.BuildID = DefaultDeployment, o.buildID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	started := time.Now()
	c, err := Up(ctx, spec)
	if err != nil {
		_ = DropDatabases(context.Background(), spec)
		t.Fatalf("cluster up: %v (logs in %s)", err, dir)
	}
	t.Logf("cluster up in %s (logs in %s)", time.Since(started).Round(time.Millisecond), dir)
	ring, err := keyring.Parse(c.Secrets.EncryptionKeys)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, spec.StoreURL(), ring)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{Cluster: c, t: t, store: st, http: &http.Client{Timeout: 40 * time.Second}}
	t.Cleanup(func() {
		st.Close()
		c.Down()
		if err := DropDatabases(context.Background(), spec); err != nil {
			t.Logf("drop databases: %v", err)
		}
		if t.Failed() {
			t.Logf("cluster logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return tc
}

// shop is a merchant with a product, created through the load balancer.
type shop struct {
	MerchantID, MerchantKey, ProductID string
}

func (c *testCluster) newShop(stock int) shop {
	c.t.Helper()
	res := c.do("POST", c.Spec.LoadBalancerURL(), "/v1/merchants", c.Secrets.AdminToken, nil, map[string]any{"name": "Cluster Shop"})
	res.expect(http.StatusCreated)
	m, _ := res.Body["merchant"].(map[string]any)
	s := shop{MerchantKey: res.str("api_key")}
	s.MerchantID, _ = m["id"].(string)
	res = c.do("POST", c.Spec.LoadBalancerURL(), "/v1/products", s.MerchantKey, nil, map[string]any{
		"title": "Mug", "price": 1200, "currency": "usd", "stock": stock, "max_per_order": 5,
	})
	res.expect(http.StatusCreated)
	s.ProductID = res.str("id")
	c.onboard(s)
	return s
}

// onboard connects the shop's Stripe account as a merchant does: the
// onboarding link (the sandbox completes it), then account.updated through
// the load balancer makes the shop purchasable.
func (c *testCluster) onboard(s shop) {
	c.t.Helper()
	res := c.do("POST", c.Spec.LoadBalancerURL(), "/v1/merchant/stripe/onboarding", s.MerchantKey, nil, nil)
	res.expect(http.StatusOK)
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(res.str("url"))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st := c.do("GET", c.Spec.LoadBalancerURL(), "/v1/merchant/stripe", s.MerchantKey, nil, nil); st.Body["charges_enabled"] == true {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("shop %s never became able to take charges", s.MerchantID)
}

func (c *testCluster) buyerToken(id string) string {
	c.t.Helper()
	tok, err := api.MintBuyerToken([]byte(c.Secrets.BuyerTokenSecret), id, time.Hour)
	if err != nil {
		c.t.Fatal(err)
	}
	return tok
}

// purchaseOutcome is what a buyer's client saw for one purchase.
type purchaseOutcome struct {
	OrderID  string
	Status   string
	Started  time.Time
	Answered time.Time
	Attempts int
	Failures []string // transport errors and 5xx seen on the way
}

// buy posts a purchase and repeats it with the same Idempotency-Key, as a
// client does, until the answer is final (not 202, not a 5xx or a broken
// connection) or limit passes.
func (c *testCluster) buy(s shop, buyer string, limit time.Duration) purchaseOutcome {
	return c.buyWith(s, c.buyerToken(buyer), limit)
}

// buyWith is buy with a buyer token of the caller's.
func (c *testCluster) buyWith(s shop, tok string, limit time.Duration) purchaseOutcome {
	key := "k-" + randomHex(8)
	body := map[string]any{"product_id": s.ProductID, "quantity": 1, "payment_method": "pm_card_visa",
		"shipping_address": map[string]any{"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London",
			"postal_code": "SW1Y 4JH", "country": "GB"}}
	out := purchaseOutcome{Started: time.Now()}
	deadline := out.Started.Add(limit)
	for time.Now().Before(deadline) {
		out.Attempts++
		res, err := c.send("POST", c.Spec.LoadBalancerURL(), "/v1/purchases", tok, map[string]string{"Idempotency-Key": key}, body)
		switch {
		case err != nil:
			out.Failures = append(out.Failures, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
		case res.Status >= 500:
			out.Failures = append(out.Failures, fmt.Sprintf("%s: %d %s", time.Now().Format("15:04:05.000"), res.Status, res.Raw))
		case res.Status == http.StatusAccepted:
		default:
			out.OrderID, _ = res.Body["order_id"].(string)
			out.Status, _ = res.Body["status"].(string)
			out.Answered = time.Now()
			return out
		}
		time.Sleep(300 * time.Millisecond)
	}
	return out
}

// merchant posts an order action through the load balancer, repeating on a
// broken connection or a 5xx (the actions are idempotent).
func (c *testCluster) merchant(s shop, orderID, action string, body any) response {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := c.send("POST", c.Spec.LoadBalancerURL(), "/v1/merchant/orders/"+orderID+"/"+action, s.MerchantKey, nil, body)
		if err == nil && res.Status < 500 {
			return res
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s %s: %v %v", action, orderID, err, res.Raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *testCluster) order(id string) models.Order {
	c.t.Helper()
	o, err := c.store.Order(context.Background(), id)
	if err != nil {
		c.t.Fatalf("order %s: %v", id, err)
	}
	return o
}

func (c *testCluster) stock(productID string) int {
	c.t.Helper()
	p, err := c.store.Product(context.Background(), productID)
	if err != nil {
		c.t.Fatal(err)
	}
	return p.Stock
}

// intents asks the Stripe sandbox for the PaymentIntents of an order.
func (c *testCluster) intents(orderID string) []sandbox.IntentRecord {
	c.t.Helper()
	res, err := c.http.Get(c.Spec.SandboxURL() + "/_sandbox/payment_intents?order_id=" + orderID)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var recs []sandbox.IntentRecord
	if err := json.NewDecoder(res.Body).Decode(&recs); err != nil {
		c.t.Fatal(err)
	}
	return recs
}

// sandboxFaults sets the sandbox's faults (latency, errors).
func (c *testCluster) sandboxFaults(f map[string]any) {
	c.t.Helper()
	c.do("POST", c.Spec.SandboxURL(), "/_sandbox/faults", "", nil, f).expect(http.StatusOK)
}

// waitOrder waits until the order reaches status in the store.
func (c *testCluster) waitOrder(id string, status models.OrderStatus, limit time.Duration) models.Order {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		o := c.order(id)
		if o.Status == status {
			return o
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("order %s is %s after %s, want %s", id, o.Status, limit, status)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

type response struct {
	t      *testing.T
	Status int
	Body   map[string]any
	Raw    string
}

func (c *testCluster) do(method, base, path, bearer string, headers map[string]string, body any) response {
	c.t.Helper()
	res, err := c.send(method, base, path, bearer, headers, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

func (c *testCluster) send(method, base, path, bearer string, headers map[string]string, body any) (response, error) {
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rdr)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{t: c.t, Status: res.StatusCode, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out, nil
}

func (r response) expect(status int) response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	return r
}

func (r response) str(key string) string {
	r.t.Helper()
	v, ok := r.Body[key].(string)
	if !ok {
		r.t.Fatalf("body has no string %q: %s", key, r.Raw)
	}
	return v
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
