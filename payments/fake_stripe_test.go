package payments

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// reply is one scripted answer of fakeStripe. hangup closes the connection
// without answering, as a crashed proxy or a network cut would.
type reply struct {
	status int
	body   string
	hangup bool
}

// seen is one request as it reached the server.
type seen struct {
	route string // "POST /v1/payment_intents"
	key   string // Idempotency-Key header
	form  url.Values
}

// fakeStripe answers each route from a script, repeating the last reply once
// the script runs out, and records what arrived.
type fakeStripe struct {
	t       *testing.T
	mu      sync.Mutex
	scripts map[string][]reply
	reqs    []seen
	url     string
}

func newFakeStripe(t *testing.T) (*fakeStripe, *Gateway) {
	t.Helper()
	f := &fakeStripe{t: t, scripts: map[string][]reply{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f, New(Config{SecretKey: "sk_test_123", APIBase: srv.URL, HTTPClient: srv.Client()})
}

func (f *fakeStripe) on(route string, replies ...reply) { f.scripts[route] = replies }

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	route := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{route: route, key: r.Header.Get("Idempotency-Key"), form: form})
	script := f.scripts[route]
	var rp reply
	switch len(script) {
	case 0:
		f.mu.Unlock()
		f.t.Errorf("unexpected request %s", route)
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"no route"}}`, http.StatusNotFound)
		return
	case 1:
		rp = script[0]
	default:
		rp, f.scripts[route] = script[0], script[1:]
	}
	f.mu.Unlock()

	if rp.hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			f.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_test")
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

// requests returns what arrived on route, in order.
func (f *fakeStripe) requests(route string) []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seen
	for _, s := range f.reqs {
		if s.route == route {
			out = append(out, s)
		}
	}
	return out
}

func ok(body string) reply { return reply{status: http.StatusOK, body: body} }

func intentJSON(id, status string) string {
	return fmt.Sprintf(`{"id":%q,"object":"payment_intent","status":%q,"amount":1500,"amount_capturable":1500,`+
		`"currency":"usd","client_secret":"%s_secret_abc","next_action":{"type":"use_stripe_sdk"}}`, id, status, id)
}

func stripeErrJSON(typ, code, declineCode string) string {
	return fmt.Sprintf(`{"error":{"type":%q,"code":%q,"decline_code":%q,"message":"raw stripe message"}}`,
		typ, code, declineCode)
}

// emptyList is a Stripe list with nothing in it.
const emptyList = `{"object":"list","data":[],"has_more":false,"url":"/v1/refunds"}`
