package payments

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
)

// TestIdempotencyKeys checks the key each mutating call sends, since a wrong
// or random key is what turns a retried activity into a double charge.
func TestIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		route string
		body  string
		call  func(g *Gateway) error
		key   string
	}{
		{"POST /v1/payment_intents", intentJSON("pi_1", IntentRequiresCapture),
			func(g *Gateway) error { _, err := g.Authorize(ctx, authReq("o1")); return err }, "order:o1:authorize:a1"},
		{"POST /v1/payment_intents/pi_1/capture", intentJSON("pi_1", IntentSucceeded),
			func(g *Gateway) error { _, err := g.Capture(ctx, "o1", "pi_1", 1); return err }, "order:o1:capture:a1"},
		{"POST /v1/payment_intents/pi_1/cancel", intentJSON("pi_1", IntentCanceled),
			func(g *Gateway) error { _, err := g.Cancel(ctx, "o1", "pi_1", 1); return err }, "order:o1:cancel:a1"},
		{"POST /v1/refunds", `{"id":"re_1","object":"refund","status":"succeeded","amount":500}`,
			func(g *Gateway) error {
				_, err := g.Refund(ctx, RefundRequest{OrderID: "o1", IntentID: "pi_1", Amount: 500, Step: "cancel", Attempt: 2})
				return err
			}, "order:o1:refund:cancel:a2"},
		{"POST /v1/customers", `{"id":"cus_1","object":"customer"}`,
			func(g *Gateway) error {
				_, err := g.CreateCustomer(ctx, "o1", CustomerRequest{Email: "a@b.c"})
				return err
			},
			"order:o1:customer"},
		{"POST /v1/payment_methods/pm_1/attach", `{"id":"pm_1","object":"payment_method","card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034}}`,
			func(g *Gateway) error {
				_, err := g.AttachPaymentMethodWithKey(ctx, "pm_1", "cus_1", "profile:p1:card:r1")
				return err
			},
			"profile:p1:card:r1"},
		{"POST /v1/payment_methods/pm_1/detach", `{"id":"pm_1","object":"payment_method"}`,
			func(g *Gateway) error { return g.DetachPaymentMethod(ctx, "pm_1", "buyer:b1:detach:pm_1") },
			"buyer:b1:detach:pm_1"},
	}
	for _, tc := range cases {
		t.Run(tc.route, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on(tc.route, ok(tc.body))
			f.on("GET /v1/refunds", ok(emptyList))
			if err := tc.call(g); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests(tc.route)
			if len(reqs) != 1 || reqs[0].key != tc.key {
				t.Fatalf("requests %+v, want one with key %q", reqs, tc.key)
			}
		})
	}
}

// TestRetriesReuseKey lets stripe-go retry by itself and checks every attempt
// carried the same key, so Stripe can deduplicate them.
func TestRetriesReuseKey(t *testing.T) {
	for _, first := range []reply{
		{status: 409, body: stripeErrJSON("invalid_request_error", "lock_timeout", "")},
		{hangup: true},
	} {
		f, _ := newFakeStripe(t)
		g := New(Config{SecretKey: "sk_test_123", APIBase: f.url, MaxNetworkRetries: 2})
		f.on("POST /v1/payment_intents/pi_1/capture", first, ok(intentJSON("pi_1", IntentSucceeded)))
		in, err := g.Capture(context.Background(), "o7", "pi_1", 1)
		if err != nil || in.Status != IntentSucceeded {
			t.Fatalf("capture after %+v: %v %+v", first, err, in)
		}
		reqs := f.requests("POST /v1/payment_intents/pi_1/capture")
		if len(reqs) < 2 {
			t.Fatalf("after %+v: %d attempts, want a retry", first, len(reqs))
		}
		for _, r := range reqs {
			if r.key != "order:o7:capture:a1" {
				t.Errorf("attempt key %q", r.key)
			}
		}
	}
}

func TestAuthorizeRequest(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/payment_intents", ok(intentJSON("pi_1", IntentRequiresCapture)))
	r := authReq("o1")
	r.Customer = "cus_9"
	in, err := g.Authorize(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "pi_1" || in.Status != IntentRequiresCapture || in.Amount != 1500 || in.Currency != "usd" {
		t.Errorf("decoded %+v", in)
	}
	if in.ClientSecret != "" {
		t.Error("client secret handed out for an intent that needs no buyer action")
	}
	form := f.requests("POST /v1/payment_intents")[0].form
	want := map[string]string{
		"amount": "1500", "currency": "usd", "confirm": "true", "capture_method": "manual",
		"payment_method": "pm_card_visa", "payment_method_types[0]": "card", "customer": "cus_9",
		"metadata[order_id]": "o1", "description": "2 × Mug",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestAuthorizeRequiresAction(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/payment_intents", ok(intentJSON("pi_3ds", IntentRequiresAction)))
	in, err := g.Authorize(context.Background(), authReq("o1"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != IntentRequiresAction || in.ClientSecret != "pi_3ds_secret_abc" || in.NextActionType != "use_stripe_sdk" {
		t.Errorf("got %+v", in)
	}
}

func TestAuthorizeDeclineKeepsIntent(t *testing.T) {
	cases := []struct {
		name  string
		reply reply
	}{
		{"402 with intent", reply{status: 402, body: `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline",` +
			`"message":"Your card was declined.","payment_intent":` + intentJSON("pi_d", IntentRequiresPaymentMethod) + `}}`}},
		{"200 with last_payment_error", ok(`{"id":"pi_d","object":"payment_intent","status":"requires_payment_method","amount":1500,` +
			`"currency":"usd","last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline"}}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on("POST /v1/payment_intents", tc.reply)
			in, err := g.Authorize(context.Background(), authReq("o1"))
			var e *models.Error
			if !errors.As(err, &e) || e.Kind != models.KindPaymentDeclined || e.Code != "generic_decline" {
				t.Fatalf("got %v", err)
			}
			if in.ID != "pi_d" {
				t.Errorf("intent id %q, want pi_d", in.ID)
			}
		})
	}
}

func TestAuthorizeValidates(t *testing.T) {
	_, g := newFakeStripe(t) // any request reaching it fails the test
	bad := []AuthorizeRequest{
		{Amount: models.Money{Amount: 100, Currency: "usd"}, PaymentMethod: "pm_card_visa"},
		{OrderID: "o1", Amount: models.Money{Amount: 0, Currency: "usd"}, PaymentMethod: "pm_card_visa"},
		{OrderID: "o1", Amount: models.Money{Amount: 100}, PaymentMethod: "pm_card_visa"},
		{OrderID: "o1", Amount: models.Money{Amount: 100, Currency: "usd"}},
	}
	for _, r := range bad {
		if _, err := g.Authorize(context.Background(), r); models.ErrorKind(err) != models.KindInvalid {
			t.Errorf("%+v: got %v, want invalid", r, err)
		}
	}
}

func TestReconcile(t *testing.T) {
	const capture, cancel, get = "POST /v1/payment_intents/pi_1/capture", "POST /v1/payment_intents/pi_1/cancel", "GET /v1/payment_intents/pi_1"
	unexpectedState := reply{status: 400, body: stripeErrJSON("invalid_request_error", errUnexpectedState, "")}
	serverError := reply{status: 500, body: stripeErrJSON("api_error", "", "")}
	cases := []struct {
		name     string
		route    string
		first    reply
		current  string // status Retrieve reports; "" = no Retrieve expected
		wantKind models.Kind
		wantGets int
	}{
		{"capture 500 but captured", capture, serverError, IntentSucceeded, "", 1},
		{"capture cut but captured", capture, reply{hangup: true}, IntentSucceeded, "", 1},
		{"capture 500 and not captured", capture, serverError, IntentRequiresCapture, models.KindUnavailable, 1},
		{"capture of captured intent", capture, unexpectedState, IntentSucceeded, "", 1},
		{"capture of canceled intent", capture, unexpectedState, IntentCanceled, models.KindConflict, 1},
		{"capture with bad request", capture, reply{status: 400, body: stripeErrJSON("invalid_request_error", "parameter_unknown", "")},
			"", models.KindInvalid, 0},
		{"cancel 503 but canceled", cancel, reply{status: 503, body: stripeErrJSON("api_error", "", "")}, IntentCanceled, "", 1},
		{"cancel of canceled intent", cancel, unexpectedState, IntentCanceled, "", 1},
		{"cancel of captured intent", cancel, unexpectedState, IntentSucceeded, models.KindConflict, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on(tc.route, tc.first)
			if tc.current != "" {
				f.on(get, ok(intentJSON("pi_1", tc.current)))
			}
			var in Intent
			var err error
			if tc.route == capture {
				in, err = g.Capture(context.Background(), "o1", "pi_1", 1)
			} else {
				in, err = g.Cancel(context.Background(), "o1", "pi_1", 1)
			}
			if tc.wantKind == "" {
				if err != nil || in.ID != "pi_1" {
					t.Fatalf("want success, got %v %+v", err, in)
				}
			} else if models.ErrorKind(err) != tc.wantKind {
				t.Fatalf("got %v, want kind %q", err, tc.wantKind)
			}
			if n := len(f.requests(get)); n != tc.wantGets {
				t.Errorf("%d retrieves, want %d", n, tc.wantGets)
			}
		})
	}
}

func TestReconcileRetrieveFails(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/payment_intents/pi_1/capture", reply{status: 500, body: stripeErrJSON("api_error", "", "")})
	f.on("GET /v1/payment_intents/pi_1", reply{hangup: true})
	_, err := g.Capture(context.Background(), "o1", "pi_1", 1)
	if models.ErrorKind(err) != models.KindUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
}

func TestRefundReason(t *testing.T) {
	cases := []struct {
		reason, sent, meta string
	}{
		{"duplicate", "duplicate", ""},
		{"fraudulent", "fraudulent", ""},
		{"", "requested_by_customer", ""},
		{"merchant rejected: out of stock", "requested_by_customer", "merchant rejected: out of stock"},
	}
	for _, tc := range cases {
		f, g := newFakeStripe(t)
		f.on("POST /v1/refunds", ok(`{"id":"re_1","object":"refund","status":"pending","amount":700}`))
		f.on("GET /v1/refunds", ok(emptyList))
		rf, err := g.Refund(context.Background(), RefundRequest{OrderID: "o2", IntentID: "pi_1", Amount: 700, Reason: tc.reason, Step: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if rf != (Refund{ID: "re_1", Status: "pending", Amount: 700}) {
			t.Errorf("decoded %+v", rf)
		}
		form := f.requests("POST /v1/refunds")[0].form
		if form.Get("reason") != tc.sent || form.Get("metadata[reason]") != tc.meta ||
			form.Get("payment_intent") != "pi_1" || form.Get("amount") != "700" || form.Get("metadata[order_id]") != "o2" ||
			form.Get("metadata[operation]") != "refund" || form.Get("metadata[refund_request]") != "r1" {
			t.Errorf("reason %q: sent %v", tc.reason, form)
		}
	}
}

func TestRefundValidates(t *testing.T) {
	_, g := newFakeStripe(t)
	for _, r := range []RefundRequest{
		{IntentID: "pi_1", Amount: 1, Step: "s"},
		{OrderID: "o", Amount: 1, Step: "s"},
		{OrderID: "o", IntentID: "pi_1", Amount: 0, Step: "s"},
		{OrderID: "o", IntentID: "pi_1", Amount: 1},
	} {
		if _, err := g.Refund(context.Background(), r); models.ErrorKind(err) != models.KindInvalid {
			t.Errorf("%+v: got %v", r, err)
		}
	}
}

func TestAttachReturnsCard(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("POST /v1/payment_methods/pm_1/attach",
		ok(`{"id":"pm_1","object":"payment_method","card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034}}`))
	c, err := g.AttachPaymentMethodWithKey(context.Background(), "pm_1", "cus_1", "profile:p1:card:r1")
	if err != nil {
		t.Fatal(err)
	}
	if c != (Card{ID: "pm_1", Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034}) {
		t.Errorf("got %+v", c)
	}
	if got := f.requests("POST /v1/payment_methods/pm_1/attach")[0].form.Get("customer"); got != "cus_1" {
		t.Errorf("customer = %q", got)
	}
}

func TestDeadlineIsUnavailable(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("GET /v1/payment_intents/pi_1", ok(intentJSON("pi_1", IntentSucceeded)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := g.Retrieve(ctx, "pi_1"); models.ErrorKind(err) != models.KindUnavailable {
		t.Fatalf("got %v", err)
	}
}

// TestRetrieveThenAct: every attempt after the first reads the intent before
// acting, adopts work already done, refuses what the status cannot allow
// without asking Stripe to try, and otherwise acts under its own key.
func TestRetrieveThenAct(t *testing.T) {
	const get = "GET /v1/payment_intents/pi_1"
	cases := []struct {
		name     string
		route    string
		current  string
		wantPost bool
		wantKind models.Kind
	}{
		{"capture already captured", "POST /v1/payment_intents/pi_1/capture", IntentSucceeded, false, ""},
		{"capture still held", "POST /v1/payment_intents/pi_1/capture", IntentRequiresCapture, true, ""},
		{"capture of a canceled intent", "POST /v1/payment_intents/pi_1/capture", IntentCanceled, false, models.KindConflict},
		{"cancel already canceled", "POST /v1/payment_intents/pi_1/cancel", IntentCanceled, false, ""},
		{"cancel still held", "POST /v1/payment_intents/pi_1/cancel", IntentRequiresCapture, true, ""},
		{"cancel of a captured intent", "POST /v1/payment_intents/pi_1/cancel", IntentSucceeded, false, models.KindConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := newFakeStripe(t)
			f.on(get, ok(intentJSON("pi_1", tc.current)))
			done := IntentSucceeded
			if strings.HasSuffix(tc.route, "cancel") {
				done = IntentCanceled
			}
			if tc.wantPost {
				f.on(tc.route, ok(intentJSON("pi_1", done)))
			}
			var err error
			var in Intent
			if done == IntentSucceeded {
				in, err = g.Capture(context.Background(), "o1", "pi_1", 3)
			} else {
				in, err = g.Cancel(context.Background(), "o1", "pi_1", 3)
			}
			if tc.wantKind == "" && err != nil || tc.wantKind != "" && models.ErrorKind(err) != tc.wantKind {
				t.Fatalf("got %v, want kind %q", err, tc.wantKind)
			}
			if tc.wantKind == "" && in.Status != done {
				t.Fatalf("intent %+v, want %s", in, done)
			}
			posts := f.requests(tc.route)
			if !tc.wantPost {
				if len(posts) != 0 {
					t.Fatalf("%d requests to act, want none", len(posts))
				}
				return
			}
			step := map[string]string{IntentSucceeded: "capture", IntentCanceled: "cancel"}[done]
			if len(posts) != 1 || posts[0].key != "order:o1:"+step+":a3" {
				t.Fatalf("requests %+v, want one under order:o1:%s:a3", posts, step)
			}
			if step == "capture" && (posts[0].form.Get("metadata[order_id]") != "o1" || posts[0].form.Get("metadata[operation]") != "capture") {
				t.Fatalf("capture not tagged: %v", posts[0].form)
			}
		})
	}
}

// TestRefundAdoptsItsOwnRefund: a refund tagged with the order and the step
// is this request's, made by an earlier attempt; none is created again.
func TestRefundAdoptsItsOwnRefund(t *testing.T) {
	list := func(step string) string {
		return `{"object":"list","has_more":false,"url":"/v1/refunds","data":[{"id":"re_old","object":"refund","amount":500,` +
			`"status":"failed","failure_reason":"lost_or_stolen_card","metadata":{"order_id":"o1","refund_request":"` + step + `"}}]}`
	}
	req := RefundRequest{OrderID: "o1", IntentID: "pi_1", Amount: 500, Step: "s1", Attempt: 4}

	f, g := newFakeStripe(t)
	f.on("GET /v1/refunds", ok(list("s1")))
	rf, err := g.Refund(context.Background(), req)
	if err != nil || rf != (Refund{ID: "re_old", Status: RefundFailed, Amount: 500, FailureReason: "lost_or_stolen_card"}) {
		t.Fatalf("got %+v %v, want the earlier refund as Stripe has it", rf, err)
	}
	if got := f.requests("GET /v1/refunds"); len(got) != 1 || got[0].form.Get("payment_intent") != "pi_1" {
		t.Fatalf("list requests %+v", got)
	}

	f, g = newFakeStripe(t)
	f.on("GET /v1/refunds", ok(list("another step")))
	f.on("POST /v1/refunds", ok(`{"id":"re_new","object":"refund","status":"succeeded","amount":500}`))
	if rf, err := g.Refund(context.Background(), req); err != nil || rf.ID != "re_new" {
		t.Fatalf("got %+v %v, want a new refund", rf, err)
	}
	if got := f.requests("POST /v1/refunds"); len(got) != 1 || got[0].key != "order:o1:refund:s1:a4" {
		t.Fatalf("create requests %+v", got)
	}
}

// TestRefundLooksAgainAfterAnUnknownOutcome: a create whose answer is lost
// is looked for at once, before the caller retries.
func TestRefundLooksAgainAfterAnUnknownOutcome(t *testing.T) {
	f, g := newFakeStripe(t)
	f.on("GET /v1/refunds", ok(emptyList), ok(`{"object":"list","has_more":false,"url":"/v1/refunds","data":[`+
		`{"id":"re_1","object":"refund","amount":500,"status":"pending","metadata":{"order_id":"o1","refund_request":"s1"}}]}`))
	f.on("POST /v1/refunds", reply{hangup: true})
	rf, err := g.Refund(context.Background(), RefundRequest{OrderID: "o1", IntentID: "pi_1", Amount: 500, Step: "s1", Attempt: 1})
	if err != nil || rf.ID != "re_1" || rf.Status != RefundPending {
		t.Fatalf("got %+v %v", rf, err)
	}
}

// A first purchase that saves the card authorizes with setup_future_usage
// and no customer (SaveOrderCard attaches it after the buyer's answer); a
// customer given, as an order started before that change does, is sent too.
func TestAuthorizeSavingTheCard(t *testing.T) {
	for _, customer := range []string{"", "cus_1"} {
		f, g := newFakeStripe(t)
		f.on("POST /v1/payment_intents", ok(`{"id":"pi_1","object":"payment_intent","status":"requires_capture","amount":1500,"currency":"usd",`+
			`"payment_method":{"id":"pm_9","object":"payment_method","card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034}}}`))
		r := authReq("o1")
		r.Customer, r.SaveCard = customer, true
		in, err := g.Authorize(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if in.Card == nil || *in.Card != (Card{ID: "pm_9", Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034}) {
			t.Fatalf("card %+v", in.Card)
		}
		form := f.requests("POST /v1/payment_intents")[0].form
		if form.Get("setup_future_usage") != "off_session" || form.Get("customer") != customer || form.Get("expand[0]") != "payment_method" ||
			form.Get("metadata[operation]") != "authorize" {
			t.Fatalf("customer %q: sent %v", customer, form)
		}
	}
}
