//go:build cluster

package cluster

import (
	"net/http"
	"testing"
	"time"

	"github.com/buybutton/checkout/api"
)

// rolloutBound is how long a change on one replica may take to reach the
// other: ROLLOUT_REFRESH (2 s by default) plus a read.
const rolloutBound = 3 * time.Second

// TestClusterRolloutShared: a rollout change saved on replica A is in force
// on replica B within the bound; a ramp step takes effect at its time on
// both; the countries rule admits and refuses by the token's country claim;
// every change is in the audit history.
func TestClusterRolloutShared(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	s := c.newShop(10)
	a, b := c.Spec.APIURL(0), c.Spec.APIURL(1)
	token := func(buyer, country string) string {
		tok, err := api.MintBuyerTokenWith([]byte(c.Secrets.BuyerTokenSecret), api.BuyerTokenClaims{BuyerID: buyer, TTL: time.Hour, Country: country})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	buyEnabled := func(base, tok string) bool {
		res := c.do("GET", base, "/v1/products/"+s.ProductID, tok, nil, nil).expect(http.StatusOK)
		v, _ := res.Body["buy_enabled"].(bool)
		return v
	}
	version := func(base string) int64 {
		res := c.do("GET", base, "/v1/admin/rollout", c.Secrets.AdminToken, nil, nil).expect(http.StatusOK)
		v, _ := res.Body["version"].(float64)
		return int64(v)
	}

	// One country, everyone in it.
	changed := time.Now()
	c.do("PUT", a, "/v1/admin/rollout", c.Secrets.AdminToken, map[string]string{"X-Actor": "ops-ana"},
		map[string]any{"percent": 100, "countries": []string{"NZ"}}).expect(http.StatusOK)
	for version(b) != 1 {
		if time.Since(changed) > rolloutBound {
			t.Fatalf("replica B still on version %d %s after the change on A", version(b), rolloutBound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := time.Since(changed)
	t.Logf("replica B took up the change made on A in %s (bound %s)", seen.Round(time.Millisecond), rolloutBound)

	nz, gb, none := token("buyer-nz", "NZ"), token("buyer-gb", "GB"), token("buyer-none", "")
	for _, base := range []string{a, b} {
		if !buyEnabled(base, nz) || buyEnabled(base, gb) || buyEnabled(base, none) {
			t.Errorf("%s: countries [NZ] should admit the NZ buyer only", base)
		}
	}
	if o := c.buyWith(s, nz, time.Minute); o.Status != "authorized" {
		t.Errorf("NZ buyer's purchase answered %q, want authorized", o.Status)
	}
	res := c.do("POST", c.Spec.LoadBalancerURL(), "/v1/purchases", gb, map[string]string{"Idempotency-Key": "gb-1"},
		map[string]any{"product_id": s.ProductID, "quantity": 1, "payment_method": "pm_card_visa",
			"shipping_address": map[string]any{"name": "A", "line1": "1 St", "city": "London", "postal_code": "SW1", "country": "GB"}})
	if res.Status != http.StatusForbidden {
		t.Errorf("GB buyer's purchase: %d %s, want 403 not_in_rollout", res.Status, res.Raw)
	}

	// A ramp from 0 to 100 % a few seconds from now, saved on B.
	stepAt := time.Now().Add(rolloutBound + 2*time.Second).Truncate(time.Millisecond)
	c.do("PUT", b, "/v1/admin/rollout", c.Secrets.AdminToken, map[string]string{"X-Actor": "ops-ben"},
		map[string]any{"percent": 0, "schedule": []map[string]any{{"at": stepAt.Format(time.RFC3339Nano), "percent": 100}}}).expect(http.StatusOK)
	deadline := time.Now().Add(rolloutBound)
	for version(a) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("replica A did not take up version 2 within %s", rolloutBound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, base := range []string{a, b} {
		if buyEnabled(base, gb) {
			t.Errorf("%s admits before the ramp step", base)
		}
	}
	time.Sleep(time.Until(stepAt))
	for _, base := range []string{a, b} {
		if !buyEnabled(base, gb) || !buyEnabled(base, none) {
			t.Errorf("%s does not admit everyone at the ramp step's time", base)
		}
	}

	// A rollback; the history names who changed what.
	c.do("PUT", a, "/v1/admin/rollout", c.Secrets.AdminToken, nil, map[string]any{"percent": 0, "paused": true}).expect(http.StatusOK)
	hist := c.do("GET", b, "/v1/admin/rollout/history", c.Secrets.AdminToken, nil, nil).expect(http.StatusOK)
	versions, _ := hist.Body["versions"].([]any)
	if len(versions) != 3 {
		t.Fatalf("history has %d versions, want 3: %s", len(versions), hist.Raw)
	}
	var actors []string
	for _, v := range versions {
		m, _ := v.(map[string]any)
		actor, _ := m["actor"].(string)
		actors = append(actors, actor)
	}
	if want := []string{"admin", "admin:ops-ben", "admin:ops-ana"}; len(actors) != 3 || actors[0] != want[0] || actors[1] != want[1] || actors[2] != want[2] {
		t.Errorf("history actors %v, want %v", actors, want)
	}
}
