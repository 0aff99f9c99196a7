package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/workflows"
)

// rawHistory reads a workflow's history with a client that has no codec: what
// Temporal's database (and anyone reading it) holds.
func (s *stack) rawHistory(workflowID string) []*historypb.HistoryEvent {
	s.t.Helper()
	raw, err := client.Dial(client.Options{HostPort: devServer.FrontendHostPort(), Logger: quietTemporalLogger()})
	if err != nil {
		s.t.Fatal(err)
	}
	defer raw.Close()
	it := raw.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		events = append(events, ev)
	}
	return events
}

func TestTemporalHistoryHoldsNoPII(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1250)
	buyer := s.buyer("buyer_pii")
	tag := randomHex(4)
	name, line1 := "Marguerite Perey "+tag, "31 Rue Pierre Curie "+tag
	postal, city := "PC"+tag, "Villeneuve "+tag
	body := purchaseBody(productID, 1, "pm_card_visa")
	body["shipping_address"] = map[string]any{"name": name, "line1": line1, "city": city, "postal_code": postal, "country": "FR"}

	orderID := s.purchase(buyer, "key-pii", body).expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(orderID, "ship", map[string]any{"carrier": "La Poste", "tracking_number": "LP" + tag}).expect(http.StatusOK)
	s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK)
	s.waitWorkflowClosed(orderID)

	wfID := workflows.WorkflowID(orderID)
	needles := []string{name, line1, postal, city, tag}
	events := s.rawHistory(wfID)
	if len(events) < 5 {
		t.Fatalf("history has %d events", len(events))
	}
	var started *historypb.WorkflowExecutionStartedEventAttributes
	for _, ev := range events {
		bin, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		text := protojson.Format(ev)
		for _, n := range needles {
			// Binary form: plaintext JSON payloads would appear verbatim.
			if bytes.Contains(bin, []byte(n)) || strings.Contains(text, n) {
				t.Fatalf("event %d (%s) contains %q in plaintext", ev.EventId, ev.EventType, n)
			}
		}
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			started = a
		}
	}
	if started == nil || len(started.Input.GetPayloads()) == 0 {
		t.Fatal("no workflow input in history")
	}
	for _, p := range started.Input.Payloads {
		if enc := string(p.Metadata["encoding"]); enc != codec.Encoding {
			t.Fatalf("input payload encoding %q, want %q", enc, codec.Encoding)
		}
	}

	// Neither the id nor what Temporal indexes (search attributes, memo) holds it either.
	d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), wfID, "")
	if err != nil {
		t.Fatal(err)
	}
	info := d.WorkflowExecutionInfo
	meta := wfID + protojson.Format(info.GetSearchAttributes()) + protojson.Format(info.GetMemo())
	metaBin, _ := proto.Marshal(info)
	for _, n := range needles {
		if strings.Contains(meta, n) || bytes.Contains(metaBin, []byte(n)) {
			t.Fatalf("workflow id, search attributes or memo contain %q", n)
		}
	}

	// The codec server mounted on the API turns the same ciphertext back into
	// the address, for operators only.
	inputJSON, err := protojson.Marshal(started.Input)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := s.codecPost("/codec/decode", "", inputJSON); status != http.StatusUnauthorized {
		t.Fatalf("decode without token: %d, want 401", status)
	}
	if status, _ := s.codecPost("/codec/decode", "Bearer not-the-token", inputJSON); status != http.StatusUnauthorized {
		t.Fatalf("decode with a wrong token: %d, want 401", status)
	}
	for _, path := range []string{"/codec/decode", "/codec/" + e2eCodecToken + "/decode"} {
		auth := ""
		if path == "/codec/decode" {
			auth = "Bearer " + e2eCodecToken
		}
		status, out := s.codecPost(path, auth, inputJSON)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, out)
		}
		var decoded commonpb.Payloads
		if err := protojson.Unmarshal(out, &decoded); err != nil {
			t.Fatal(err)
		}
		var in workflows.PurchaseInput
		if err := converter.GetDefaultDataConverter().FromPayloads(&decoded, &in); err != nil {
			t.Fatalf("%s: decoded input is not a plain workflow input: %v", path, err)
		}
		if in.OrderID != orderID || in.Shipping.Name != name || in.Shipping.Line1 != line1 {
			t.Fatalf("%s: decoded input %+v", path, in)
		}
	}

	// The roles do not stand in for each other.
	if status, _ := s.codecPost("/codec/decode", "Bearer "+e2eOperatorToken, inputJSON); status != http.StatusUnauthorized {
		t.Fatalf("decode with the admin token: %d, want 401", status)
	}
	s.do("GET", "/v1/admin/rollout", e2eCodecToken, nil, nil).expect(http.StatusUnauthorized)
	s.do("POST", "/v1/merchants", e2eCodecToken, nil, map[string]any{"name": "Codec's shop"}).expect(http.StatusUnauthorized)

	// And encode → decode round-trips a payload of our own.
	plain, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + name + `"`)}}})
	status, sealed := s.codecPost("/codec/encode", "Bearer "+e2eCodecToken, plain)
	if status != http.StatusOK || bytes.Contains(sealed, []byte(name)) {
		t.Fatalf("encode: %d %s", status, sealed)
	}
	status, opened := s.codecPost("/codec/decode", "Bearer "+e2eCodecToken, sealed)
	var back commonpb.Payloads
	if status != http.StatusOK || protojson.Unmarshal(opened, &back) != nil || string(back.Payloads[0].Data) != `"`+name+`"` {
		t.Fatalf("round trip: %d %s", status, opened)
	}
}

func (s *stack) codecPost(path, auth string, body []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.API.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

func TestBuyerOutsideTheRolloutIsRefused(t *testing.T) {
	s := newStack(t, stackOptions{rollout: &rollout.Settings{Percent: 0, Allow: []string{"buyer_dogfood"}}})
	productID := s.product(5, 700)
	in, out := s.buyer("buyer_dogfood"), s.buyer("buyer_outsider")

	for _, c := range []struct {
		who, token string
		want       bool
	}{{"anonymous", "", false}, {"outsider", out, false}, {"dogfooder", in, true}} {
		got := s.do("GET", "/v1/products/"+productID, c.token, nil, nil).expect(http.StatusOK)
		if got.Body["buy_enabled"] != c.want {
			t.Fatalf("%s: buy_enabled %v, want %v", c.who, got.Body["buy_enabled"], c.want)
		}
	}

	res := s.purchase(out, "key-out", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusForbidden)
	if res.errorCode() != "not_in_rollout" {
		t.Fatalf("code %q: %s", res.errorCode(), res.Raw)
	}
	orderID := models.OrderIDFromIdempotencyKey("buyer_outsider", "key-out")
	_, err := s.Temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(orderID), "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("a workflow exists for the refused purchase (err %v)", err)
	}
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock %d after a refused purchase, want 5", got)
	}
	s.purchase(in, "key-in", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)

	// An operator opens the button to everyone at run time.
	s.do("PUT", "/v1/admin/rollout", "", nil, map[string]any{"percent": 100}).expect(http.StatusUnauthorized)
	s.do("PUT", "/v1/admin/rollout", in, nil, map[string]any{"percent": 100}).expect(http.StatusUnauthorized)
	set := s.do("PUT", "/v1/admin/rollout", e2eOperatorToken, nil, map[string]any{"percent": 100, "allow": []string{"buyer_dogfood"}}).
		expect(http.StatusOK)
	if set.Body["percent"] != float64(100) {
		t.Fatalf("admin answer: %s", set.Raw)
	}
	s.purchase(out, "key-out", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	got := s.do("GET", "/v1/admin/rollout", e2eOperatorToken, nil, nil).expect(http.StatusOK)
	if got.Body["percent"] != float64(100) {
		t.Fatalf("rollout after PUT: %s", got.Raw)
	}
}

func TestTenantIsolationOverTheRealStack(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 900)
	buyerA := s.buyer("buyer_alpha")
	orderID := s.purchase(buyerA, "key-a", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")

	_, keyB, err := s.Store.CreateMerchant(context.Background(), "Other Merchant", "")
	if err != nil {
		t.Fatal(err)
	}
	buyerB := s.buyer("buyer_beta")

	// Not 403: the answer must not confirm that the order exists.
	s.do("GET", "/v1/orders/"+orderID, keyB, nil, nil).expect(http.StatusNotFound)
	s.do("GET", "/v1/orders/"+orderID, buyerB, nil, nil).expect(http.StatusNotFound)
	s.do("POST", "/v1/orders/"+orderID+"/cancel", buyerB, nil, nil).expect(http.StatusNotFound)
	for _, action := range []string{"accept", "reject", "deliver"} {
		s.do("POST", "/v1/merchant/orders/"+orderID+"/"+action, keyB, nil, nil).expect(http.StatusNotFound)
	}
	s.do("POST", "/v1/merchant/orders/"+orderID+"/ship", keyB, nil,
		map[string]any{"carrier": "DHL", "tracking_number": "X1"}).expect(http.StatusNotFound)
	// An id that does not exist answers exactly the same.
	missing := s.do("GET", "/v1/orders/ord_does_not_exist", keyB, nil, nil).expect(http.StatusNotFound)
	other := s.do("GET", "/v1/orders/"+orderID, keyB, nil, nil)
	if missing.Raw != other.Raw {
		t.Fatalf("a foreign order answers %s, a missing one %s", other.Raw, missing.Raw)
	}

	list := s.do("GET", "/v1/merchant/orders", keyB, nil, nil).expect(http.StatusOK)
	if listHasOrder(list, orderID) {
		t.Fatalf("merchant B lists merchant A's order: %s", list.Raw)
	}
	products := s.do("GET", "/v1/merchant/products", keyB, nil, nil).expect(http.StatusOK)
	if strings.Contains(products.Raw, productID) {
		t.Fatalf("merchant B lists merchant A's product: %s", products.Raw)
	}

	if o := s.order(orderID); o.Status != models.StatusAuthorized {
		t.Fatalf("order is %s after the other tenants' attempts, want authorized", o.Status)
	}
	s.do("GET", "/v1/orders/"+orderID, buyerA, nil, nil).expect(http.StatusOK)
	s.do("GET", "/v1/orders/"+orderID, s.MerchantKey, nil, nil).expect(http.StatusOK)
}

func TestRateLimitsOverTheRealStack(t *testing.T) {
	// One token an hour after the burst: nothing refills during the test.
	s := newStack(t, stackOptions{rateLimits: api.RateLimits{Buyer: api.RateLimit{PerSecond: 1.0 / 3600, Burst: 3}}})
	productID := s.product(5, 900)
	flooder, calm := s.buyer("buyer_flood"), s.buyer("buyer_calm")
	for i := 0; i < 3; i++ {
		s.do("GET", "/v1/products/"+productID, flooder, nil, nil).expect(http.StatusOK)
		s.do("GET", "/v1/orders/ord_none", flooder, nil, nil).expect(http.StatusNotFound)
	}
	res := s.do("GET", "/v1/orders/ord_none", flooder, nil, nil).expect(http.StatusTooManyRequests)
	if res.errorCode() != "rate_limited" {
		t.Fatalf("429 body: %s", res.Raw)
	}
	s.purchase(flooder, "key-1", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusTooManyRequests)
	if secs, err := strconv.Atoi(s.retryAfter("/v1/orders/ord_none", flooder)); err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", s.retryAfter("/v1/orders/ord_none", flooder))
	}
	s.do("GET", "/v1/orders/ord_none", calm, nil, nil).expect(http.StatusNotFound)
	if got := s.stock(productID); got != 5 {
		t.Fatalf("a refused purchase reserved stock: %d", got)
	}
}

func (s *stack) retryAfter(path, bearer string) string {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.API.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusTooManyRequests {
		s.t.Fatalf("status %d, want 429", res.StatusCode)
	}
	return res.Header.Get("Retry-After")
}
