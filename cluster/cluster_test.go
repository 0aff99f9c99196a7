//go:build cluster

package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// temporalClient dials the cluster's frontend (no payload codec: the tests
// only list and describe).
func (c *testCluster) temporalClient() client.Client {
	c.t.Helper()
	tc, err := client.Dial(client.Options{HostPort: c.Spec.FrontendAddr(), Namespace: DefaultNamespace, Logger: quietLogger{}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(tc.Close)
	return tc
}

// listWorkflows answers a visibility query, waiting up to limit for want
// hits (SQL visibility is written after the workflow task).
func (c *testCluster) listWorkflows(tc client.Client, query string, want int, limit time.Duration) []string {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		res, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: DefaultNamespace, Query: query, PageSize: 1000,
		})
		if err != nil {
			c.t.Fatalf("visibility query %q: %v", query, err)
		}
		var ids []string
		for _, e := range res.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		sort.Strings(ids)
		if len(ids) == want || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestClusterPurchaseLifecycle: purchase → accept → ship → deliver through
// haproxy on the Temporal server on Postgres; visibility queries by
// OrderStatus and MerchantID answer from SQL visibility.
func TestClusterPurchaseLifecycle(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	tc := c.temporalClient()
	a, b := c.newShop(10), c.newShop(10)

	delivered := c.buy(a, "buyer-life-1", time.Minute)
	waiting := c.buy(a, "buyer-life-2", time.Minute)
	other := c.buy(b, "buyer-life-3", time.Minute)
	for _, o := range []purchaseOutcome{delivered, waiting, other} {
		if o.Status != string(models.StatusAuthorized) {
			t.Fatalf("purchase answered %q (%d attempts, %v), want authorized", o.Status, o.Attempts, o.Failures)
		}
	}
	c.merchant(a, delivered.OrderID, "accept", nil).expect(http.StatusOK)
	c.merchant(a, delivered.OrderID, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z999"}).expect(http.StatusOK)
	c.merchant(a, delivered.OrderID, "deliver", nil).expect(http.StatusOK)
	o := c.waitOrder(delivered.OrderID, models.StatusDelivered, 30*time.Second)
	if o.CapturedMinor != o.AmountMinor || o.AmountMinor != 1200 {
		t.Errorf("delivered order captured %d of %d, want 1200 of 1200", o.CapturedMinor, o.AmountMinor)
	}
	if pis := c.intents(delivered.OrderID); len(pis) != 1 || pis[0].Status != "succeeded" || pis[0].AmountReceived != 1200 {
		t.Errorf("sandbox has %+v for the delivered order, want one succeeded intent of 1200", pis)
	}
	if got := c.stock(a.ProductID); got != 8 {
		t.Errorf("stock %d after two purchases of 10, want 8", got)
	}

	wf := func(o purchaseOutcome) string { return workflows.WorkflowID(o.OrderID) }
	status, merchant := workflows.OrderStatusKey.GetName(), workflows.MerchantIDKey.GetName()
	for _, q := range []struct {
		query string
		want  []string
	}{
		{fmt.Sprintf("%s = '%s' AND %s = 'delivered'", merchant, a.MerchantID, status), []string{wf(delivered)}},
		{fmt.Sprintf("%s = '%s' AND %s = 'authorized'", merchant, a.MerchantID, status), []string{wf(waiting)}},
		{fmt.Sprintf("%s = '%s'", merchant, b.MerchantID), []string{wf(other)}},
		{fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", merchant, a.MerchantID), []string{wf(waiting)}},
	} {
		sort.Strings(q.want)
		if got := c.listWorkflows(tc, q.query, len(q.want), 15*time.Second); strings.Join(got, ",") != strings.Join(q.want, ",") {
			t.Errorf("visibility %q = %v, want %v", q.query, got, q.want)
		}
	}
}

// runPurchases buys n times from s with at most conc purchases in flight,
// calling during(i) before purchase i starts.
func (c *testCluster) runPurchases(s shop, prefix string, n, conc int, during func(i int)) []purchaseOutcome {
	out := make([]purchaseOutcome, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if during != nil {
			during(i)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = c.buy(s, fmt.Sprintf("%s-%d", prefix, i), 3*time.Minute)
		}(i)
	}
	wg.Wait()
	return out
}

// checkConsistent accepts every authorized order and checks each one ends
// captured with exactly one PaymentIntent, and the stock adds up.
func (c *testCluster) checkConsistent(s shop, outs []purchaseOutcome, stockBefore int) {
	c.t.Helper()
	for i, o := range outs {
		if o.Status != string(models.StatusAuthorized) {
			c.t.Fatalf("purchase %d answered %q after %d attempts (%v), want authorized", i, o.Status, o.Attempts, o.Failures)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, o := range outs {
		sem <- struct{}{}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			defer func() { <-sem }()
			c.merchant(s, id, "accept", nil).expect(http.StatusOK)
		}(o.OrderID)
	}
	wg.Wait()
	intents := 0
	for _, o := range outs {
		got := c.waitOrder(o.OrderID, models.StatusAccepted, time.Minute)
		pis := c.intents(o.OrderID)
		intents += len(pis)
		if len(pis) != 1 || pis[0].Status != "succeeded" || pis[0].AmountReceived != got.AmountMinor || got.CapturedMinor != got.AmountMinor {
			c.t.Errorf("order %s: captured %d of %d, sandbox intents %+v; want one succeeded intent for the amount",
				o.OrderID, got.CapturedMinor, got.AmountMinor, pis)
		}
	}
	if got, want := c.stock(s.ProductID), stockBefore-len(outs); got != want {
		c.t.Errorf("stock %d after %d purchases of %d, want %d", got, len(outs), stockBefore, want)
	}
	c.t.Logf("%d orders, %d PaymentIntents, all captured once", len(outs), intents)
}

// TestClusterKillWorkerAndAPI: kill -9 one worker and one api replica while
// 100 purchases run (8 at a time): every order ends authorized and then
// captured with one PaymentIntent, haproxy sends traffic to the replica left,
// and the time from the kill to the last stuck order's answer is printed.
func TestClusterKillWorkerAndAPI(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	const n, stock = 100, 1000
	s := c.newShop(stock)
	var killedAt time.Time
	outs := c.runPurchases(s, "buyer-kill", n, 8, func(i int) {
		if i == 30 {
			killedAt = time.Now()
			if err := c.Workers[0].Kill(); err != nil {
				t.Fatal(err)
			}
			if err := c.APIs[0].Kill(); err != nil {
				t.Fatal(err)
			}
			t.Logf("killed %s and %s (kill -9) with purchases in flight", c.Workers[0].Name, c.APIs[0].Name)
		}
	})
	var stuck, failuresAfter int
	var recovery, firstAnswer time.Duration
	for _, o := range outs {
		if o.Started.Before(killedAt) && o.Answered.After(killedAt) {
			stuck++
			if d := o.Answered.Sub(killedAt); d > recovery {
				recovery = d
			}
		}
		if o.Answered.After(killedAt) && (firstAnswer == 0 || o.Answered.Sub(killedAt) < firstAnswer) {
			firstAnswer = o.Answered.Sub(killedAt)
		}
		// Once haproxy has taken the dead replica out (two failed checks a
		// second apart), no purchase started afterwards sees an error.
		if o.Started.After(killedAt.Add(4*time.Second)) && len(o.Failures) > 0 {
			failuresAfter++
			t.Errorf("purchase started %s after the kill saw %v", o.Started.Sub(killedAt).Round(time.Millisecond), o.Failures)
		}
	}
	c.checkConsistent(s, outs, stock)
	// The dead replica is out of the rotation: every request lands.
	for i := 0; i < 20; i++ {
		c.do("GET", c.Spec.LoadBalancerURL(), "/readyz", "", nil, nil).expect(http.StatusOK)
	}
	fmt.Printf("cluster kill test: %d orders, %d in flight at the kill; first answer %s after the kill, last stuck order answered %s after it (recovery time)\n",
		n, stuck, firstAnswer.Round(time.Millisecond), recovery.Round(time.Millisecond))
	t.Logf("recovery time %s (%d orders in flight at the kill)", recovery.Round(time.Millisecond), stuck)
}

// TestClusterTemporalRestart: kill -9 and restart the Temporal server with
// purchases in flight and orders waiting for the merchant: every purchase
// is answered, every order is then accepted and captured once.
func TestClusterTemporalRestart(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	const stock = 100
	s := c.newShop(stock)
	waiting := c.runPurchases(s, "buyer-wait", 10, 5, nil)
	var restarted time.Time
	inflight := c.runPurchases(s, "buyer-restart", 20, 5, func(i int) {
		if i == 8 {
			if err := c.Temporal.Kill(); err != nil {
				t.Fatal(err)
			}
			restarted = time.Now()
			if err := c.Temporal.Start(); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitTemporal(context.Background(), 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			t.Logf("temporal server killed and back in %s", time.Since(restarted).Round(time.Millisecond))
		}
	})
	c.checkConsistent(s, append(waiting, inflight...), stock)
}

// TestClusterGracefulShutdown: SIGTERM one worker and one api replica while
// slow purchases run (every Stripe call takes 1.5 s): the worker stops
// polling, finishes its activities and exits 0 within its bound; the api
// answers the requests it holds before exiting; no client sees an error and
// every order is captured once.
func TestClusterGracefulShutdown(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	const stock = 100
	s := c.newShop(stock)
	c.sandboxFaults(map[string]any{"latency_ms": 1500})
	type stopped struct {
		name string
		took time.Duration
		err  error
		code int
	}
	results := make(chan stopped, 2)
	outs := c.runPurchases(s, "buyer-term", 16, 8, func(i int) {
		if i == 8 {
			time.Sleep(700 * time.Millisecond) // the first purchases are inside Stripe calls
			for _, p := range []*Process{c.Workers[0], c.APIs[0]} {
				go func(p *Process) {
					took, err := p.Stop(60 * time.Second)
					results <- stopped{p.Name, took, err, p.ExitCode()}
				}(p)
			}
		}
	})
	bounds := map[string]time.Duration{c.Workers[0].Name: 15 * time.Second, c.APIs[0].Name: 25 * time.Second}
	for i := 0; i < 2; i++ {
		r := <-results
		t.Logf("%s exited %d, %s after SIGTERM", r.name, r.code, r.took.Round(time.Millisecond))
		if r.err != nil || r.code != 0 || r.took > bounds[r.name] {
			t.Errorf("%s: SIGTERM → exit %d after %s (%v), want exit 0 within %s", r.name, r.code, r.took, r.err, bounds[r.name])
		}
	}
	for _, o := range outs {
		if len(o.Failures) > 0 {
			t.Errorf("purchase %s saw %v during the shutdown", o.OrderID, o.Failures)
		}
	}
	c.sandboxFaults(map[string]any{})
	c.checkConsistent(s, outs, stock)
}
