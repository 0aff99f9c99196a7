package payments

import (
	"context"
	"fmt"
	"testing"

	"github.com/buybutton/checkout/models"
)

func searchJSON(intents ...string) string {
	data := ""
	for i, in := range intents {
		if i > 0 {
			data += ","
		}
		data += in
	}
	return `{"object":"search_result","data":[` + data + `],"has_more":false,"next_page":null,"url":"/v1/payment_intents/search"}`
}

func orderIntentJSON(id, status, orderID string) string {
	return fmt.Sprintf(`{"id":%q,"object":"payment_intent","status":%q,"amount":1500,"amount_capturable":1500,`+
		`"currency":"usd","metadata":{"order_id":%q}}`, id, status, orderID)
}

func TestFindIntentByOrder(t *testing.T) {
	const route = "GET /v1/payment_intents/search"
	cases := []struct {
		name      string
		reply     reply
		wantFound bool
		wantID    string
		wantKind  models.Kind
	}{
		{"none yet", ok(searchJSON()), false, "", ""},
		{"held", ok(searchJSON(orderIntentJSON("pi_1", IntentRequiresCapture, "ord_1"))), true, "pi_1", ""},
		{"live intent wins over a canceled one",
			ok(searchJSON(orderIntentJSON("pi_old", IntentCanceled, "ord_1"), orderIntentJSON("pi_1", IntentRequiresCapture, "ord_1"))),
			true, "pi_1", ""},
		{"only canceled", ok(searchJSON(orderIntentJSON("pi_old", IntentCanceled, "ord_1"))), true, "pi_old", ""},
		{"another order's intent is ignored", ok(searchJSON(orderIntentJSON("pi_x", IntentRequiresCapture, "ord_2"))), false, "", ""},
		{"stripe down", reply{status: 500, body: stripeErrJSON("api_error", "", "")}, false, "", models.KindUnavailable},
		{"connection cut", reply{hangup: true}, false, "", models.KindUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on(route, tc.reply)
			in, found, err := g.FindIntentByOrder(context.Background(), "ord_1")
			if tc.wantKind != "" {
				if models.ErrorKind(err) != tc.wantKind {
					t.Fatalf("got %v, want kind %q", err, tc.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tc.wantFound || in.ID != tc.wantID {
				t.Fatalf("got %+v found=%v, want %q found=%v", in, found, tc.wantID, tc.wantFound)
			}
			reqs := f.requests(route)
			if len(reqs) != 1 {
				t.Fatalf("%d search requests, want 1", len(reqs))
			}
			if q := reqs[0].form.Get("query"); q != "metadata['order_id']:'ord_1'" {
				t.Errorf("query %q", q)
			}
		})
	}
}

func TestFindIntentByOrderValidates(t *testing.T) {
	_, g := newFakeStripe(t) // any request would fail the test: the fake has no script
	if _, _, err := g.FindIntentByOrder(context.Background(), ""); models.ErrorKind(err) != models.KindInvalid {
		t.Fatalf("got %v, want invalid", err)
	}
}

func TestOrderSearchQueryEscapes(t *testing.T) {
	cases := map[string]string{
		"ord_1":   `metadata['order_id']:'ord_1'`,
		`a'b`:     `metadata['order_id']:'a\'b'`,
		`a\' OR `: `metadata['order_id']:'a\\\' OR '`,
	}
	for id, want := range cases {
		if got := OrderSearchQuery(id); got != want {
			t.Errorf("OrderSearchQuery(%q) = %q, want %q", id, got, want)
		}
	}
}

// Against the stateful sandbox: the intent an authorize made is found, also
// when the authorize's answer was lost, and its cancel shows in the search.
func TestSandboxFindIntentByOrder(t *testing.T) {
	g, base := newSandbox(t)
	ctx := context.Background()
	if _, found, err := g.FindIntentByOrder(ctx, "ord_find"); err != nil || found {
		t.Fatalf("before authorize: found=%v err=%v", found, err)
	}
	setFaults(t, base, `{"fail_after_next":1}`)
	if _, err := g.Authorize(ctx, sandboxAuth("ord_find", "pm_card_visa")); models.ErrorKind(err) != models.KindUnavailable {
		t.Fatalf("authorize with a lost answer: %v", err)
	}
	in, found, err := g.FindIntentByOrder(ctx, "ord_find")
	if err != nil || !found || in.Status != IntentRequiresCapture {
		t.Fatalf("after a lost answer: %+v found=%v err=%v", in, found, err)
	}
	if _, err := g.Cancel(ctx, "ord_find", in.ID, 1); err != nil {
		t.Fatal(err)
	}
	again, found, err := g.FindIntentByOrder(ctx, "ord_find")
	if err != nil || !found || again.ID != in.ID || again.Status != IntentCanceled {
		t.Fatalf("after cancel: %+v found=%v err=%v", again, found, err)
	}
}
