package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

const testWebhookSecret = "whsec_test"

// fakeEvents is an in-memory StripeEventStore; the lease logic is tested on
// the real store (stripe_webhooks_crash_test.go).
type fakeEvents struct {
	mu      sync.Mutex
	claimed map[string]bool // recorded, handled or not
	handled map[string]bool
	intents map[string]string // payment intent → order
	notes   []string
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{claimed: map[string]bool{}, handled: map[string]bool{}, intents: map[string]string{}}
}

func (f *fakeEvents) ClaimStripeEvent(_ context.Context, id, _, _ string, _ time.Time, _ time.Duration) (store.StripeEventClaim, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.handled[id]:
		return store.StripeEventHandled, nil
	case f.claimed[id]:
		return store.StripeEventBusy, nil
	}
	f.claimed[id] = true
	return store.StripeEventClaimed, nil
}

func (f *fakeEvents) MarkStripeEventHandled(_ context.Context, id string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claimed[id] {
		f.handled[id] = true
	}
	return nil
}

func (f *fakeEvents) ReleaseStripeEvent(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.handled[id] {
		delete(f.claimed, id)
	}
	return nil
}

func (f *fakeEvents) OrderIDByPaymentIntent(_ context.Context, intentID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.intents[intentID]; ok {
		return id, nil
	}
	return "", models.NotFound("order")
}

func (f *fakeEvents) AddOrderNote(_ context.Context, orderID, _, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, orderID+": "+detail)
	return nil
}

func newWebhookEnv(t testing.TB) (*env, *fakeEvents) {
	t.Helper()
	ev := newFakeEvents()
	e := newEnv(t, func(c *Config) {
		c.StripeWebhookSecret = testWebhookSecret
		c.StripeEvents = ev
	})
	return e, ev
}

func eventBody(id, typ string, object map[string]any) string {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(), "type": typ,
		"data": map[string]any{"object": object},
	})
	return string(b)
}

func signedHeader(body, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: secret, Timestamp: at}).Header
}

func (e *env) deliver(body, signature string) int {
	e.t.Helper()
	w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
		headers: map[string]string{"Stripe-Signature": signature}})
	return w.Code
}

func capturableEvent(id string) string {
	return eventBody(id, "payment_intent.amount_capturable_updated", map[string]any{
		"id": "pi_1", "object": "payment_intent", "status": "requires_capture",
		"metadata": map[string]any{"order_id": "ord_1"},
	})
}

func TestStripeWebhookRefusesBadSignatures(t *testing.T) {
	e, ev := newWebhookEnv(t)
	body := capturableEvent("evt_1")
	cases := []struct {
		name, header, code string
	}{
		{"missing", "", "missing_signature"},
		{"wrong secret", signedHeader(body, "whsec_other", time.Now()), "invalid_signature"},
		{"garbage", "t=abc,v1=zz", "invalid_signature"},
		{"stale", signedHeader(body, testWebhookSecret, time.Now().Add(-10*time.Minute)), "stale_signature"},
		{"from the future", signedHeader(body, testWebhookSecret, time.Now().Add(10*time.Minute)), "stale_signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
				headers: map[string]string{"Stripe-Signature": c.header}})
			requireError(t, w, http.StatusBadRequest, c.code)
		})
	}
	t.Run("tampered body", func(t *testing.T) {
		header := signedHeader(body, testWebhookSecret, time.Now())
		w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: capturableEvent("evt_2"),
			headers: map[string]string{"Stripe-Signature": header}})
		requireError(t, w, http.StatusBadRequest, "invalid_signature")
	})
	assert.Empty(t, ev.claimed, "nothing recorded for refused deliveries")
	// The Temporal mock fails the test on any call: no signal was sent.
}

// The age is read from the same single timestamp the MAC covers: a fresh
// t= in front of an old signed one (t=NOW,t=OLD,v1=SIG) is refused, and an
// old event is refused although its id was never recorded (a restored
// database has forgotten the ids).
func TestStripeWebhookRefusesReplays(t *testing.T) {
	e, ev := newWebhookEnv(t)
	body := capturableEvent("evt_never_seen")
	old := time.Now().Add(-time.Hour)
	oldHeader := signedHeader(body, testWebhookSecret, old)
	for name, header := range map[string]string{
		"fresh t before the signed one": fmt.Sprintf("t=%d,%s", time.Now().Unix(), oldHeader),
		"fresh t after the signed one":  fmt.Sprintf("%s,t=%d", oldHeader, time.Now().Unix()),
		"the signed t twice":            fmt.Sprintf("t=%d,%s", old.Unix(), oldHeader),
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
				headers: map[string]string{"Stripe-Signature": header}}), http.StatusBadRequest, "invalid_signature")
		})
	}
	t.Run("old and unseen", func(t *testing.T) {
		requireError(t, e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
			headers: map[string]string{"Stripe-Signature": oldHeader}}), http.StatusBadRequest, "stale_signature")
	})
	t.Run("just inside the tolerance", func(t *testing.T) {
		e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent,
			mock.Anything).Return(nil).Once()
		header := signedHeader(body, testWebhookSecret, time.Now().Add(-payments.WebhookTolerance+5*time.Second))
		require.Equal(t, http.StatusOK, e.deliver(body, header))
	})
	assert.Len(t, ev.claimed, 1, "only the delivery inside the tolerance was recorded")
}

func TestStripeWebhookSignalsTheOrderOnce(t *testing.T) {
	e, ev := newWebhookEnv(t)
	e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent,
		workflows.PaymentIntentSignal{IntentID: "pi_1", Status: "requires_capture"}).Return(nil).Once()
	body := capturableEvent("evt_1")
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
	assert.True(t, ev.handled["evt_1"], "marked handled after acting")
	// Redelivered: acknowledged, not signalled again (Once above).
	w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
		headers: map[string]string{"Stripe-Signature": signedHeader(body, testWebhookSecret, time.Now())}})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, true, decodeBody(t, w)["duplicate"])
}

// Stripe's word on an intent whose payment has settled (authorized,
// captured, voided) is acknowledged without a signal: the workflow reads
// such words only while it waits for the payment.
func TestStripeWebhookSignalsOnlyWhileThePaymentIsUnsettled(t *testing.T) {
	for _, tc := range []struct {
		status models.OrderStatus
		signal bool
	}{
		{models.StatusPending, true},
		{models.StatusRequiresAction, true},
		{models.StatusAuthorized, false},
		{models.StatusAccepted, false},
		{models.StatusCancelled, false},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			e, ev := newWebhookEnv(t)
			e.store.putOrder(models.Order{ID: "ord_1", BuyerID: "buyer_1", Status: tc.status, PaymentIntentID: "pi_1"})
			if tc.signal {
				e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent,
					workflows.PaymentIntentSignal{IntentID: "pi_1", Status: "requires_capture"}).Return(nil).Once()
			}
			body := capturableEvent("evt_1")
			require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
			assert.True(t, ev.handled["evt_1"])
			if !tc.signal {
				e.temporal.AssertNotCalled(t, "SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything)
			}
		})
	}
}

func TestStripeWebhookRetriesWhenTemporalIsDown(t *testing.T) {
	e, ev := newWebhookEnv(t)
	e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent, mock.Anything).
		Return(serviceerror.NewUnavailable("down")).Once()
	e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent, mock.Anything).
		Return(nil).Once()
	body := capturableEvent("evt_1")
	require.Equal(t, http.StatusServiceUnavailable, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())),
		"a 5xx makes Stripe redeliver")
	assert.False(t, ev.claimed["evt_1"], "the event is forgotten so the redelivery counts")
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
}

func TestStripeWebhookClosedWorkflowIsAcknowledged(t *testing.T) {
	e, _ := newWebhookEnv(t)
	e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent, mock.Anything).
		Return(serviceerror.NewNotFound("workflow execution already completed")).Once()
	body := capturableEvent("evt_late")
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
}

// expectNews makes the next signal of Stripe's money news to the order's
// workflow answer err.
func (e *env) expectNews(orderID string, news workflows.StripeMoneyEvent, err error) {
	e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID(orderID), "", workflows.SignalStripeMoney, news).
		Return(err).Once()
}

// A dispute goes to the order's workflow, the one writer of its money; the
// API marks nothing itself.
func TestStripeWebhookDisputeGoesToTheOrder(t *testing.T) {
	e, ev := newWebhookEnv(t)
	ev.intents["pi_9"] = "ord_9"
	body := eventBody("evt_dp", "charge.dispute.created", map[string]any{
		"id": "dp_1", "object": "dispute", "payment_intent": "pi_9", "amount": 1500, "reason": "fraudulent",
		"metadata": map[string]any{},
	})
	e.expectNews("ord_9", workflows.StripeMoneyEvent{EventID: "evt_dp", Kind: workflows.MoneyEventDispute, ObjectID: "dp_1",
		Status: models.DisputeNeedsResponse, Amount: 1500, Reason: "fraudulent", Detail: "dispute opened (fraudulent) for 1500"}, nil)
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
	e.temporal.AssertExpectations(t)

	refunded := eventBody("evt_rf", "charge.refunded", map[string]any{
		"id": "ch_1", "object": "charge", "payment_intent": map[string]any{"id": "pi_9"}, "amount_refunded": 700,
		"metadata": map[string]any{},
	})
	require.Equal(t, http.StatusOK, e.deliver(refunded, signedHeader(refunded, testWebhookSecret, time.Now())))
	assert.Equal(t, []string{"ord_9: Stripe reports 700 refunded in total"}, ev.notes)
}

// Once the order's workflow has ended, the news starts a short workflow
// named after the order and the event; when that cannot start the event is
// forgotten for Stripe's redelivery, and one already started counts.
func TestStripeWebhookNewsAfterTheOrderEnded(t *testing.T) {
	e, ev := newWebhookEnv(t)
	ev.intents["pi_9"] = "ord_9"
	body := eventBody("evt_dc", "charge.dispute.closed", map[string]any{
		"id": "dp_2", "object": "dispute", "payment_intent": "pi_9", "amount": 1500, "status": "lost", "metadata": map[string]any{},
	})
	news := workflows.StripeMoneyEvent{EventID: "evt_dc", Kind: workflows.MoneyEventDispute, ObjectID: "dp_2",
		Status: "lost", Amount: 1500, Detail: "dispute lost: the buyer's bank keeps the 1500"}
	ended := serviceerror.NewNotFound("workflow execution already completed")
	start := func(err error) {
		e.temporal.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
			return o.ID == workflows.EndedOrderWorkflowID("ord_9", "stripe-evt_dc") && o.TaskQueue == "checkout"
		}), workflows.EndedOrderWorkflowName, workflows.EndedOrderInput{OrderID: "ord_9", News: &news}).Return(fakeRun{}, err).Once()
	}
	e.expectNews("ord_9", news, ended)
	start(serviceerror.NewUnavailable("temporal down"))
	assert.GreaterOrEqual(t, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())), 500)
	assert.False(t, ev.claimed["evt_dc"], "event released for redelivery")

	e.expectNews("ord_9", news, ended)
	start(nil)
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
	assert.True(t, ev.handled["evt_dc"])
	e.temporal.AssertExpectations(t)
}

func TestStripeWebhookIgnoresOthersEvents(t *testing.T) {
	e, ev := newWebhookEnv(t)
	for i, body := range []string{
		eventBody("evt_a", "payment_intent.succeeded", map[string]any{"id": "pi_x", "object": "payment_intent", "metadata": map[string]any{}}),
		eventBody("evt_b", "payment_intent.succeeded", map[string]any{"id": "pi_x", "object": "payment_intent",
			"metadata": map[string]any{"order_id": "not an id!"}}),
		eventBody("evt_c", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}),
	} {
		require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())), "case %d", i)
	}
	assert.Len(t, ev.claimed, 3)
	assert.Len(t, ev.handled, 3, "marked handled, so redeliveries are duplicates rather than in progress")
}

func TestStripeWebhookUnconfigured(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.StripeEvents = newFakeEvents() })
	body := capturableEvent("evt_1")
	w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
		headers: map[string]string{"Stripe-Signature": signedHeader(body, "", time.Now())}})
	requireError(t, w, http.StatusServiceUnavailable, "webhooks_not_configured")
}

// FuzzStripeWebhook throws arbitrary bodies and signatures, validly signed
// or not, at the endpoint: it must answer 2xx or 4xx, never 5xx or panic.
func FuzzStripeWebhook(f *testing.F) {
	f.Add(capturableEvent("evt_1"), true, "")
	f.Add(eventBody("evt_dp", "charge.dispute.created", map[string]any{"id": "dp_1", "object": "dispute", "payment_intent": "pi_9"}), true, "")
	f.Add(eventBody("evt_rf", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "payment_intent": map[string]any{"id": 5}}), true, "")
	f.Add(`{"id":"evt_x","type":"payment_intent.succeeded","data":{"object":null}}`, true, "")
	f.Add(`{"id":"evt_x","type":"payment_intent.succeeded","data":{"object":{"metadata":{"order_id":"ord_1"}}}}`, true, "")
	f.Add(`{}`, true, "")
	f.Add(`null`, true, "")
	f.Add(`not json`, false, "t=1,v1=00")
	f.Add(capturableEvent("evt_1"), false, "t=99999999999999999999,v1=ab,v1=cd")
	f.Add("", false, ",,,=")
	f.Add(capturableEvent("evt_1"), true, "t=1")
	f.Add(capturableEvent("evt_1"), true, "t=99999999999")
	f.Fuzz(func(t *testing.T, body string, sign bool, header string) {
		e, _ := newWebhookEnv(t)
		e.temporal.On("SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
		e.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.EndedOrderWorkflowName, mock.Anything).
			Return(fakeRun{}, nil).Maybe()
		// Signed: the fuzzed header is added to a valid signature, as an
		// attacker holding one captured delivery would.
		extraT := false
		if sign {
			extra := header
			header = signedHeader(body, testWebhookSecret, time.Now())
			if extra != "" {
				header = extra + "," + header
				for _, part := range strings.Split(extra, ",") {
					if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
						extraT = true
					}
				}
			}
		}
		w := e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
			headers: map[string]string{"Stripe-Signature": header}})
		if w.Code >= 500 {
			t.Fatalf("status %d for body %q header %q: %s", w.Code, body, header, w.Body.String())
		}
		if extraT && w.Code < 300 {
			t.Fatalf("a header with a second t= was accepted: %q", header)
		}
	})
}

// Stripe's news of a refund goes to the order's workflow with its status
// and failure reason, and the event is handled once relayed.
func TestStripeWebhookRefundUpdated(t *testing.T) {
	e, ev := newWebhookEnv(t)
	body := eventBody("evt_r1", "charge.refund.updated", map[string]any{
		"id": "re_1", "object": "refund", "payment_intent": "pi_1", "amount": 500, "status": "failed",
		"failure_reason": "lost_or_stolen_card", "metadata": map[string]any{"order_id": "ord_1", "refund_request": "merchant:abc"},
	})
	e.expectNews("ord_1", workflows.StripeMoneyEvent{EventID: "evt_r1", Kind: workflows.MoneyEventRefund, ObjectID: "re_1",
		Status: "failed", Amount: 500, FailureReason: "lost_or_stolen_card", Ours: true}, nil)
	require.Equal(t, http.StatusOK, e.deliver(body, signedHeader(body, testWebhookSecret, time.Now())))
	assert.True(t, ev.handled["evt_r1"])
	e.temporal.AssertExpectations(t)
}
