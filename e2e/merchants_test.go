package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/checkoutwebhook"
	"github.com/buybutton/checkout/models"
)

// merchantEndpoint is a merchant's webhook receiver: it verifies the
// signature, fails the first failFirst requests with 503, and applies each
// event id at most once, as the README tells merchants to.
type merchantEndpoint struct {
	srv       *httptest.Server
	secret    string
	failFirst int

	mu       sync.Mutex
	requests int
	badSigs  int
	applied  map[string]int    // event id → times applied (must stay ≤ 1)
	received map[string]int    // event id → requests carrying it
	types    map[string]string // event id → type
	bodies   map[string][]byte // event id → last raw body
	headers  map[string]http.Header
	arrived  []checkoutwebhook.Event // every verified event, in arrival order
}

func newMerchantEndpoint(t *testing.T, failFirst int) *merchantEndpoint {
	m := &merchantEndpoint{failFirst: failFirst, applied: map[string]int{}, received: map[string]int{},
		types: map[string]string{}, bodies: map[string][]byte{}, headers: map[string]http.Header{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchantEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	if m.requests <= m.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	ev, err := checkoutwebhook.Parse(m.secret, r.Header, body, 0)
	if err != nil {
		m.badSigs++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m.received[ev.ID]++
	m.arrived = append(m.arrived, ev)
	m.types[ev.ID] = ev.Type
	m.bodies[ev.ID] = body
	m.headers[ev.ID] = r.Header.Clone()
	if m.applied[ev.ID] == 0 {
		m.applied[ev.ID]++
	}
	w.WriteHeader(http.StatusOK)
}

func (m *merchantEndpoint) snapshot() (received, applied map[string]int, badSigs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := func(src map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range src {
			out[k] = v
		}
		return out
	}
	return cp(m.received), cp(m.applied), m.badSigs
}

// setWebhook points the stack's merchant at the endpoint and keeps the secret.
func (s *stack) setWebhook(m *merchantEndpoint) {
	s.t.Helper()
	res := s.do("PUT", "/v1/merchant/webhook", s.MerchantKey, nil, map[string]any{"url": m.srv.URL + "/hooks"})
	res.expect(http.StatusOK)
	m.mu.Lock()
	m.secret = res.str("signing_secret")
	m.mu.Unlock()
}

// deliveries reads the order's delivery log through the merchant API.
func (s *stack) deliveries(orderID string) []models.WebhookDelivery {
	s.t.Helper()
	res := s.do("GET", "/v1/merchant/orders/"+orderID+"/deliveries", s.MerchantKey, nil, nil).expect(http.StatusOK)
	var body struct {
		Deliveries []models.WebhookDelivery `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(res.Raw), &body); err != nil {
		s.t.Fatal(err)
	}
	return body.Deliveries
}

// waitDelivery polls the delivery log until done says the delivery of
// eventType reached the wanted state; the failure message shows the log.
func (s *stack) waitDelivery(orderID, eventType string, done func(models.WebhookDelivery) bool) models.WebhookDelivery {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last []models.WebhookDelivery
	for time.Now().Before(deadline) {
		last = s.deliveries(orderID)
		for _, d := range last {
			if d.EventType == eventType && done(d) {
				return d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("delivery of %s never reached the wanted state; log: %+v", eventType, last)
	return models.WebhookDelivery{}
}

func (s *stack) authorizedOrder(productID, buyer string) string {
	s.t.Helper()
	res := s.purchase(s.buyer(buyer), "key-"+randomHex(6), purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	return res.str("order_id")
}

func TestWebhookRetriedUntilDeliveredAndAppliedOnce(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 3)
	s.setWebhook(hook)
	orderID := s.authorizedOrder(s.product(5, 1500), "buyer-hooks")

	d := s.waitDelivery(orderID, "order.created", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })
	if len(d.Attempts) != 4 {
		t.Fatalf("%d attempts logged, want 4: %+v", len(d.Attempts), d.Attempts)
	}
	for i, a := range d.Attempts {
		want := http.StatusServiceUnavailable
		if i == 3 {
			want = http.StatusOK
		}
		if a.Attempt != i+1 || a.StatusCode != want {
			t.Errorf("attempt %d: %+v, want number %d status %d", i, a, i+1, want)
		}
	}
	if d.ID != "evt_"+orderID+"_order.created" {
		t.Errorf("delivery id %q", d.ID)
	}
	received, applied, bad := hook.snapshot()
	if received[d.ID] != 1 || applied[d.ID] != 1 || bad != 0 {
		t.Fatalf("received %v applied %v bad signatures %d", received, applied, bad)
	}

	// What the merchant got: the event to fulfil, with items, quantity,
	// address and amount, under the delivery id header.
	hook.mu.Lock()
	body, header := hook.bodies[d.ID], hook.headers[d.ID]
	hook.mu.Unlock()
	if header.Get(checkoutwebhook.EventIDHeader) != d.ID {
		t.Errorf("event id header %q", header.Get(checkoutwebhook.EventIDHeader))
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			OrderID  string `json:"order_id"`
			Quantity int    `json:"quantity"`
			Amount   int64  `json:"amount"`
			Items    []struct {
				Title    string `json:"title"`
				Quantity int    `json:"quantity"`
			} `json:"items"`
			ShippingAddress models.Address `json:"shipping_address"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "order.created" || ev.Data.OrderID != orderID || ev.Data.Amount != 1500 || ev.Data.Quantity != 1 ||
		len(ev.Data.Items) != 1 || ev.Data.Items[0].Title != "Mug" || ev.Data.ShippingAddress.Line1 == "" {
		t.Errorf("event body %s", body)
	}

	// A body signed with another secret, or altered, does not verify.
	if err := checkoutwebhook.Verify("whsec_not_the_merchants", header.Get(checkoutwebhook.SignatureHeader), body, 0, time.Now()); err == nil {
		t.Error("a signature verified with the wrong secret")
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] ^= 1
	if err := checkoutwebhook.Verify(hook.secret, header.Get(checkoutwebhook.SignatureHeader), tampered, 0, time.Now()); err == nil {
		t.Error("a tampered body verified")
	}

	// A replay runs through Temporal, is logged as a fifth attempt, and the
	// merchant's dedupe keeps it applied once.
	res := s.do("POST", "/v1/merchant/orders/"+orderID+"/deliveries/"+d.ID+"/replay", s.MerchantKey, nil, nil).expect(http.StatusAccepted)
	if res.str("workflow_id") != "webhook-replay-"+d.ID {
		t.Errorf("replay workflow id %q", res.str("workflow_id"))
	}
	s.waitDelivery(orderID, "order.created", func(d models.WebhookDelivery) bool { return len(d.Attempts) == 5 })
	received, applied, _ = hook.snapshot()
	if received[d.ID] != 2 || applied[d.ID] != 1 {
		t.Fatalf("after replay: received %v applied %v", received, applied)
	}

	// Another merchant's key cannot read or replay this order's deliveries.
	other, otherKey, err := s.Store.CreateMerchant(t.Context(), "Other", "")
	if err != nil || other.ID == "" {
		t.Fatal(err)
	}
	s.do("GET", "/v1/merchant/orders/"+orderID+"/deliveries", otherKey, nil, nil).expect(http.StatusNotFound)
	s.do("POST", "/v1/merchant/orders/"+orderID+"/deliveries/"+d.ID+"/replay", otherKey, nil, nil).expect(http.StatusNotFound)
	s.do("POST", "/v1/merchant/orders/"+orderID+"/deliveries/evt_nope/replay", s.MerchantKey, nil, nil).expect(http.StatusNotFound)
}

func TestWebhookRejectedByMerchantIsNotRetried(t *testing.T) {
	s := newStack(t, stackOptions{})
	// The merchant's endpoint cannot verify: it answers 400 to everything.
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	hook.mu.Lock()
	hook.secret = "whsec_stale_copy"
	hook.mu.Unlock()
	orderID := s.authorizedOrder(s.product(5, 900), "buyer-rejected")

	d := s.waitDelivery(orderID, "order.created", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookRejected })
	if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != http.StatusBadRequest {
		t.Fatalf("attempts %+v, want one 400", d.Attempts)
	}
	if _, _, bad := hook.snapshot(); bad != 1 {
		t.Fatalf("merchant saw %d bad signatures, want 1", bad)
	}
	// The buyer's order went on regardless.
	if o := s.order(orderID); o.Status != models.StatusAuthorized {
		t.Fatalf("order status %s", o.Status)
	}
}

func TestFulfilmentUpdatesAreIdempotentAndVisibleToBuyer(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	buyer := s.buyer("buyer-ship")
	res := s.purchase(buyer, "key-ship", purchaseBody(s.product(5, 2500), 1, "pm_card_visa")).expect(http.StatusCreated)
	orderID := res.str("order_id")

	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	ship := map[string]any{"carrier": "DHL", "tracking_number": "JD0123", "tracking_url": "https://track.example/JD0123"}
	first := s.merchantAction(orderID, "ship", ship).expect(http.StatusOK)
	again := s.merchantAction(orderID, "ship", ship).expect(http.StatusOK)
	for _, r := range []response{first, again} {
		if r.str("status") != "shipped" || r.str("carrier") != "DHL" || r.str("tracking_number") != "JD0123" {
			t.Fatalf("ship answered %s", r.Raw)
		}
	}
	// Another parcel for a shipped order is a conflict, not a silent change.
	s.merchantAction(orderID, "ship", map[string]any{"carrier": "UPS", "tracking_number": "1Z"}).expect(http.StatusConflict)

	view := s.do("GET", "/v1/orders/"+orderID, buyer, nil, nil).expect(http.StatusOK)
	if view.str("carrier") != "DHL" || view.str("tracking_number") != "JD0123" || view.str("tracking_url") != "https://track.example/JD0123" {
		t.Fatalf("buyer sees %s", view.Raw)
	}

	s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK)
	if r := s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK); r.str("status") != "delivered" {
		t.Fatalf("deliver again: %s", r.Raw)
	}
	s.waitDelivery(orderID, "order.delivered", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })

	// Once the workflow has closed, a repeated deliver still answers the same
	// state, and anything else is refused.
	s.waitWorkflowClosed(orderID)
	if r := s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK); r.str("status") != "delivered" {
		t.Fatalf("deliver after close: %s", r.Raw)
	}
	if r := s.merchantAction(orderID, "ship", map[string]any{"carrier": "DHL", "tracking_number": "X"}).expect(http.StatusConflict); r.errorCode() != "order_closed" {
		t.Fatalf("ship after close: %s", r.Raw)
	}
}

func TestMerchantAccounts(t *testing.T) {
	s := newStack(t, stackOptions{})

	s.do("POST", "/v1/merchants", "", nil, map[string]any{"name": "Kiln"}).expect(http.StatusUnauthorized)
	s.do("POST", "/v1/merchants", s.MerchantKey, nil, map[string]any{"name": "Kiln"}).expect(http.StatusUnauthorized)
	s.do("POST", "/v1/merchants", e2eOperatorToken, nil, map[string]any{"name": ""}).expect(http.StatusBadRequest)
	created := s.do("POST", "/v1/merchants", e2eOperatorToken, nil, map[string]any{"name": "Kiln"}).expect(http.StatusCreated)
	key1 := created.str("api_key")
	if mer, _ := created.Body["merchant"].(map[string]any); mer["name"] != "Kiln" || mer["api_key_hash"] != nil {
		t.Fatalf("created %s", created.Raw)
	}
	s.do("GET", "/v1/merchant/orders", key1, nil, nil).expect(http.StatusOK)

	// Rotation: the new key works, the old one too during the grace period.
	rot := s.do("POST", "/v1/merchant/keys/rotate", key1, nil, nil).expect(http.StatusOK)
	key2 := rot.str("api_key")
	s.do("GET", "/v1/merchant/orders", key2, nil, nil).expect(http.StatusOK)
	s.do("GET", "/v1/merchant/orders", key1, nil, nil).expect(http.StatusOK)
	// Rotating with no grace retires the key at once.
	key3 := s.do("POST", "/v1/merchant/keys/rotate", key2, nil, map[string]any{"grace_period_seconds": 0}).expect(http.StatusOK).str("api_key")
	s.do("GET", "/v1/merchant/orders", key3, nil, nil).expect(http.StatusOK)
	if r := s.do("GET", "/v1/merchant/orders", key2, nil, nil); r.Status == http.StatusOK {
		t.Fatal("a key rotated with no grace still works")
	}
	s.do("POST", "/v1/merchant/keys/rotate", key3, nil, map[string]any{"grace_period_seconds": -1}).expect(http.StatusBadRequest)
	// Large enough that seconds*1e9 overflows int64 nanoseconds.
	s.do("POST", "/v1/merchant/keys/rotate", key3, nil, map[string]any{"grace_period_seconds": int64(9223372037)}).expect(http.StatusBadRequest)

	// Webhook URL: http(s) only; the secret is stored encrypted.
	for _, bad := range []string{"ftp://example.com/h", "/relative", "https://user:pw@example.com/h", ""} {
		s.do("PUT", "/v1/merchant/webhook", key3, nil, map[string]any{"url": bad}).expect(http.StatusBadRequest)
	}
	wh := s.do("PUT", "/v1/merchant/webhook", key3, nil, map[string]any{"url": "https://kiln.example/hooks"}).expect(http.StatusOK)
	secret := wh.str("signing_secret")
	var stored string
	if err := s.Store.DB().Raw("SELECT webhook_secret FROM merchants WHERE name = ?", "Kiln").Scan(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored == "" || stored == secret || regexp.MustCompile(`whsec_`).MatchString(stored) {
		t.Fatalf("webhook secret stored as %q", stored)
	}
}

func TestMerchantOrdersPagesWithCursor(t *testing.T) {
	s := newStack(t, stackOptions{})
	product := s.product(10, 500)
	var ids []string
	for i := range 3 {
		ids = append(ids, s.authorizedOrder(product, fmt.Sprintf("buyer-page-%d", i)))
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		q := url.Values{"limit": {"2"}, "status": {"authorized"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res := s.do("GET", "/v1/merchant/orders?"+q.Encode(), s.MerchantKey, nil, nil).expect(http.StatusOK)
		pages++
		for _, o := range res.Body["orders"].([]any) {
			seen[o.(map[string]any)["id"].(string)] = true
		}
		next, _ := res.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if pages != 2 || len(seen) != 3 {
		t.Fatalf("%d pages, %d orders: %v", pages, len(seen), seen)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("order %s missing", id)
		}
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if r := s.do("GET", "/v1/merchant/orders?created_after="+future, s.MerchantKey, nil, nil).expect(http.StatusOK); len(r.Body["orders"].([]any)) != 0 {
		t.Errorf("created_after the future: %s", r.Raw)
	}
	if r := s.do("GET", "/v1/merchant/orders?created_after="+past+"&created_before="+future, s.MerchantKey, nil, nil).expect(http.StatusOK); len(r.Body["orders"].([]any)) != 3 {
		t.Errorf("within the last hour: %s", r.Raw)
	}
	s.do("GET", "/v1/merchant/orders?cursor=not-a-cursor", s.MerchantKey, nil, nil).expect(http.StatusBadRequest)
	s.do("GET", "/v1/merchant/orders?created_after=yesterday", s.MerchantKey, nil, nil).expect(http.StatusBadRequest)
}

// metricValue finds one sample in a Prometheus text scrape; labels must all
// be present on it. Missing → -1.
func metricValue(scrape, name string, labels map[string]string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{([^}]*)\} ([0-9.e+-]+)$`)
	for _, m := range re.FindAllStringSubmatch(scrape, -1) {
		ok := true
		for k, v := range labels {
			if !regexp.MustCompile(`(^|,)` + regexp.QuoteMeta(k) + `="` + regexp.QuoteMeta(v) + `"`).MatchString(m[1]) {
				ok = false
			}
		}
		if ok {
			f, _ := strconv.ParseFloat(m[2], 64)
			return f
		}
	}
	return -1
}

func TestMetricsCountPurchasesAndDeliveries(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	product := s.product(1, 700)
	orderID := s.authorizedOrder(product, "buyer-metrics-1")
	s.purchase(s.buyer("buyer-metrics-2"), "key-declined", purchaseBody(product, 1, "pm_card_chargeDeclined")).expect(http.StatusConflict) // sold out: stock was 1
	other := s.product(5, 700)
	s.purchase(s.buyer("buyer-metrics-3"), "key-declined-2", purchaseBody(other, 1, "pm_card_chargeDeclined")).expect(http.StatusPaymentRequired)
	s.waitDelivery(orderID, "order.created", func(d models.WebhookDelivery) bool { return d.Status == models.WebhookDelivered })

	s.do("GET", "/metrics", "", nil, nil).expect(http.StatusNotFound) // not on the public listener
	scrape, err := http.Get(s.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(scrape.Body)
	scrape.Body.Close()
	res := response{t: t, Status: scrape.StatusCode, Raw: string(raw)}
	res.expect(http.StatusOK)
	want := map[string]float64{"started": 3, "authorized": 1, "sold_out": 1, "declined": 1}
	for event, n := range want {
		if got := metricValue(res.Raw, "checkout_purchases_total", map[string]string{"event": event}); got != n {
			t.Errorf("checkout_purchases_total{event=%q} = %v, want %v", event, got, n)
		}
	}
	if got := metricValue(res.Raw, "checkout_webhook_deliveries_total", map[string]string{"outcome": "delivered"}); got != 1 {
		t.Errorf("webhook deliveries delivered = %v, want 1", got)
	}
	for _, gauge := range []string{"checkout_merchant_outbox_pending", "checkout_merchant_outbox_oldest_seconds"} {
		if !strings.Contains(res.Raw, "\n"+gauge+"{") && !strings.Contains(res.Raw, "\n"+gauge+" ") {
			t.Errorf("no %s series: the worker's dispatcher reports its backlog", gauge)
		}
	}
	if got := metricValue(res.Raw, "http_request_duration_seconds_count", map[string]string{"route": "/v1/purchases", "status": "201"}); got != 1 {
		t.Errorf("purchase request histogram count = %v, want 1", got)
	}
	if t.Failed() {
		t.Log(res.Raw)
	}
	// The Temporal SDK's own metrics go through the same registry.
	if !regexp.MustCompile(`(?m)^temporal_`).MatchString(res.Raw) {
		t.Error("no temporal_ SDK metrics in /metrics")
	}
}
