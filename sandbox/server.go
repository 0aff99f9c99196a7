// Package sandbox is a local, stateful server speaking the part of Stripe's
// HTTP API the checkout uses, so stripe-go v76 works against it unchanged
// without a network or a Stripe key. It keeps PaymentIntents, charges,
// payment methods, customers, refunds and, for Connect, connected accounts,
// Account Links, transfers, reversals and application fees in memory,
// honours idempotency keys like Stripe, sends signed webhooks, and can
// inject faults on demand so the checkout's retry and reconciliation paths
// can be exercised in tests.
package sandbox

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is usable: no webhooks, no
// logging, the real clock.
type Options struct {
	WebhookURL    string // where signed events are POSTed ("" = none)
	WebhookSecret string // whsec_… used to sign them
	// ConnectWebhookURL receives the events of connected accounts
	// (account.updated), signed with ConnectWebhookSecret; "" = WebhookURL
	// and WebhookSecret.
	ConnectWebhookURL    string
	ConnectWebhookSecret string
	Logger               *slog.Logger     // optional
	Now                  func() time.Time // optional; stamps objects, events and idempotency entries
}

// Server is an http.Handler serving the Stripe routes under /v1/ and the test
// control routes under /_sandbox/.
type Server struct {
	log *slog.Logger
	now func() time.Time

	// mu guards every Stripe object and the idempotency table. Handlers run
	// entirely under it: they are in-memory and fast, and a single lock makes
	// each request atomic the way a Stripe API call is.
	mu             sync.Mutex
	intents        map[string]*paymentIntent
	charges        map[string]*charge
	paymentMethods map[string]*paymentMethod
	customers      map[string]*customer
	refunds        map[string]*refund
	disputes       map[string]*dispute
	accounts       map[string]*account
	links          map[string]*accountLink
	transfers      map[string]*transfer
	appFees        map[string]*applicationFee
	idem           map[string]*idemEntry
	claims         int // idempotency keys claimed, to prune now and then
	events         []*event

	faults faultState
	hooks  *webhookSender
	// connectHooks delivers connected accounts' events to the Connect endpoint.
	connectHooks *webhookSender
	routes       []route
}

// New returns a Server; call Close when done so webhook deliveries stop.
func New(opts Options) *Server {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		log:            logger,
		now:            now,
		intents:        map[string]*paymentIntent{},
		charges:        map[string]*charge{},
		paymentMethods: map[string]*paymentMethod{},
		customers:      map[string]*customer{},
		refunds:        map[string]*refund{},
		disputes:       map[string]*dispute{},
		accounts:       map[string]*account{},
		links:          map[string]*accountLink{},
		transfers:      map[string]*transfer{},
		appFees:        map[string]*applicationFee{},
		idem:           map[string]*idemEntry{},
	}
	s.hooks = newWebhookSender(opts.WebhookURL, opts.WebhookSecret, logger)
	s.connectHooks = s.hooks
	if opts.ConnectWebhookURL != "" {
		secret := opts.ConnectWebhookSecret
		if secret == "" {
			secret = opts.WebhookSecret
		}
		s.connectHooks = newWebhookSender(opts.ConnectWebhookURL, secret, logger)
	}
	s.routes = s.stripeRoutes()
	return s
}

// Close stops webhook delivery; events still queued are dropped.
func (s *Server) Close() {
	s.hooks.close()
	if s.connectHooks != s.hooks {
		s.connectHooks.close()
	}
}

// handlerFunc is a Stripe route: it runs under s.mu and returns the status
// and the object to encode. Returning an *apiError renders Stripe's error body.
type handlerFunc func(c *call) (int, any)

type route struct {
	method   string
	segments []string // "{id}" captures a path segment
	handle   handlerFunc
}

// call is one Stripe request as the handlers see it.
type call struct {
	r       *http.Request
	params  params
	pathID  string
	apiKey  string
	reqID   string
	idemKey string
	expand  map[string]bool
}

func (s *Server) stripeRoutes() []route {
	r := func(method, pattern string, h handlerFunc) route {
		return route{method: method, segments: strings.Split(strings.Trim(pattern, "/"), "/"), handle: h}
	}
	return []route{
		r("POST", "/v1/payment_intents", s.createIntent),
		// search before {id}: routes match in order.
		r("GET", "/v1/payment_intents/search", s.searchIntents),
		r("GET", "/v1/payment_intents/{id}", s.getIntent),
		r("POST", "/v1/payment_intents/{id}", s.updateIntent),
		r("POST", "/v1/payment_intents/{id}/confirm", s.confirmIntent),
		r("POST", "/v1/payment_intents/{id}/capture", s.captureIntent),
		r("POST", "/v1/payment_intents/{id}/cancel", s.cancelIntent),
		r("GET", "/v1/charges/{id}", s.getCharge),
		r("POST", "/v1/payment_methods", s.createPaymentMethod),
		r("GET", "/v1/payment_methods/{id}", s.getPaymentMethod),
		r("POST", "/v1/payment_methods/{id}/attach", s.attachPaymentMethod),
		r("POST", "/v1/payment_methods/{id}/detach", s.detachPaymentMethod),
		r("GET", "/v1/payment_methods", s.listPaymentMethods),
		r("GET", "/v1/customers/{id}/payment_methods", s.listCustomerPaymentMethods),
		r("POST", "/v1/customers", s.createCustomer),
		r("GET", "/v1/customers/{id}", s.getCustomer),
		r("POST", "/v1/customers/{id}", s.updateCustomer),
		r("DELETE", "/v1/customers/{id}", s.deleteCustomer),
		r("POST", "/v1/refunds", s.createRefund),
		r("GET", "/v1/refunds", s.listRefunds),
		r("GET", "/v1/refunds/{id}", s.getRefund),
		r("GET", "/v1/disputes/{id}", s.getDispute),
		r("GET", "/v1/events/{id}", s.getEvent),
		r("POST", "/v1/accounts", s.createAccount),
		r("GET", "/v1/accounts/{id}", s.getAccount),
		r("POST", "/v1/accounts/{id}", s.updateAccount),
		r("POST", "/v1/account_links", s.createAccountLink),
		r("GET", "/v1/transfers", s.listTransfers),
		r("GET", "/v1/transfers/{id}", s.getTransfer),
		r("GET", "/v1/application_fees/{id}", s.getApplicationFee),
	}
}

func (s *Server) match(method, path string) (handlerFunc, string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range s.routes {
		if rt.method != method || len(rt.segments) != len(parts) {
			continue
		}
		id, ok := "", true
		for i, seg := range rt.segments {
			switch {
			case seg == "{id}" && parts[i] != "":
				id = parts[i]
			case seg != parts[i]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return rt.handle, id, true
		}
	}
	return nil, "", false
}

// ServeHTTP answers Stripe routes under /v1/ and control routes under /_sandbox/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newID("req_", 14)
	w.Header().Set("Request-Id", reqID)
	allowBrowsers(w)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case r.URL.Path == StripeJSPath && r.Method == http.MethodGet:
		serveStripeJS(w)
	case strings.HasPrefix(r.URL.Path, "/_sandbox/"):
		s.serveControl(w, r)
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		s.serveStripe(w, r, reqID)
	default:
		writeResponse(w, http.StatusNotFound, unrecognizedURL(r))
	}
}

// allowBrowsers lets the demo widget create payment methods straight from the
// page with a publishable key, as Stripe.js does against the real API.
func allowBrowsers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Stripe-Version")
	h.Set("Access-Control-Expose-Headers", "Request-Id, Idempotent-Replayed, Original-Request")
}

func (s *Server) serveStripe(w http.ResponseWriter, r *http.Request, reqID string) {
	key, public, authErr := apiKey(r)
	if authErr != nil {
		writeResponse(w, authErr.status, authErr)
		return
	}
	handle, id, ok := s.match(r.Method, r.URL.Path)
	if !ok {
		writeResponse(w, http.StatusNotFound, unrecognizedURL(r))
		return
	}
	if public && !(r.Method == http.MethodPost && r.URL.Path == "/v1/payment_methods") {
		e := errorf(http.StatusUnauthorized, typeInvalidRequest, "", "",
			"This API call cannot be made with a publishable API key. Please use a secret API key.")
		writeResponse(w, e.status, e)
		return
	}
	if err := r.ParseForm(); err != nil {
		e := errorf(http.StatusBadRequest, typeInvalidRequest, "", "", "Invalid request body: %v", err)
		writeResponse(w, e.status, e)
		return
	}

	if s.injectFault(w, r) {
		return
	}

	c := &call{r: r, params: params{r.Form}, pathID: id, apiKey: key, reqID: reqID}
	c.expand = c.params.expand()
	if r.Method == http.MethodPost {
		c.idemKey = strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	}

	var claim *idemEntry
	finished := false
	defer func() {
		// A handler that panicked must not leave its key looking in progress.
		if !finished {
			s.releaseIdempotency(claim)
		}
	}()
	if c.idemKey != "" {
		var replay *idemEntry
		var idemErr *apiError
		claim, replay, idemErr = s.claimIdempotency(c)
		switch {
		case idemErr != nil:
			writeResponse(w, idemErr.status, idemErr)
			return
		case replay != nil:
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Original-Request", replay.requestID)
			writeRaw(w, replay.status, replay.body)
			return
		}
	}

	if !s.sleepLatency(r.Context(), r.URL.Path) {
		return
	}

	cached := cachedNone
	if claim != nil {
		cached = s.faults.takeCached(r.URL.Path)
	}
	var status int
	var raw []byte
	refused := false
	if cached == cachedBefore {
		s.log.Info("sandbox: failing after execution began, answer kept under the key", "path", r.URL.Path, "request_id", reqID)
		status, raw = http.StatusInternalServerError, encode(internalError())
	} else {
		status, raw, refused = s.run(handle, c)
		if cached == cachedAfterWork {
			s.log.Info("sandbox: failing after the work, answer kept under the key", "path", r.URL.Path, "request_id", reqID)
			status, raw = http.StatusInternalServerError, encode(internalError())
		}
	}
	finished = true

	failAfter := r.Method == http.MethodPost && s.faults.takeFailAfter(r.URL.Path)
	// As at Stripe, once execution began the answer is kept under the key,
	// a 5xx included, and replayed for 24 hours; a request refused before
	// execution (invalid or unknown parameters) keeps nothing, so the key
	// can be used again. A response lost after the work is kept as it was,
	// exactly as Stripe keeps a committed request whose answer never reached
	// the client.
	if refused {
		s.releaseIdempotency(claim)
	} else {
		s.finishIdempotency(claim, status, raw)
	}
	if failAfter {
		s.log.Info("sandbox: answering 500 after doing the work", "path", r.URL.Path, "request_id", reqID)
		writeResponse(w, http.StatusInternalServerError, internalError())
		return
	}
	writeRaw(w, status, raw)
}

// run executes a handler; refused reports an error raised before any
// execution (a parameter Stripe's validation rejects), which keeps no
// idempotent answer.
func (s *Server) run(handle handlerFunc, c *call) (status int, body []byte, refused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, v := handle(c)
	if e, ok := v.(*apiError); ok {
		refused = e.refused
	}
	return status, encode(v), refused
}

// sleepLatency waits out the configured latency; false means the client went away.
func (s *Server) sleepLatency(ctx context.Context, path string) bool {
	d := s.faults.latency(path)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// apiKey reads the secret key the way Stripe does: Bearer, or Basic with the
// key as the user name. Publishable keys are recognised so the widget can
// create payment methods.
func apiKey(r *http.Request) (key string, public bool, err *apiError) {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Bearer "):
		key = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	default:
		if u, _, ok := r.BasicAuth(); ok {
			key = u
		}
	}
	if key == "" {
		return "", false, errorf(http.StatusUnauthorized, typeInvalidRequest, "", "",
			"You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
	}
	switch {
	case strings.HasPrefix(key, "sk_test_") && len(key) > len("sk_test_"):
		return key, false, nil
	case strings.HasPrefix(key, "pk_test_") && len(key) > len("pk_test_"):
		return key, true, nil
	}
	return "", false, errorf(http.StatusUnauthorized, typeInvalidRequest, "", "",
		"Invalid API Key provided: %s", redactKey(key))
}

func redactKey(key string) string {
	if len(key) <= 12 {
		return strings.Repeat("*", len(key))
	}
	return key[:8] + strings.Repeat("*", len(key)-12) + key[len(key)-4:]
}
