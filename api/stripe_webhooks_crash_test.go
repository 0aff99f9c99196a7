package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/buybutton/checkout/workflows"
)

// withWebhookClock makes the handler's clock (signatures and claims) read
// *at, for the rest of the test.
func withWebhookClock(t *testing.T, at *time.Time) {
	t.Helper()
	prev := webhookNow
	webhookNow = func() time.Time { return *at }
	t.Cleanup(func() { webhookNow = prev })
}

// An API process that dies after claiming an event, before acting on it,
// runs no error path: the claim is neither released nor marked handled.
// Stripe's redelivery must then be acted on once the lease has passed, and
// not while the claimer may still be at work.
func TestStripeWebhookRedeliveryActsAfterACrash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, func(c *Config) {
			c.StripeWebhookSecret = testWebhookSecret
			c.StripeEvents = s
		})
		start := time.Now()
		clock := start
		withWebhookClock(t, &clock)
		body := capturableEvent("evt_crash")
		deliver := func() *httptest.ResponseRecorder {
			return e.do(req{method: http.MethodPost, path: "/v1/webhooks/stripe", body: body,
				headers: map[string]string{"Stripe-Signature": signedHeader(body, testWebhookSecret, clock)}})
		}
		signal := func() *mock.Call {
			return e.temporal.On("SignalWorkflow", mock.Anything, workflows.WorkflowID("ord_1"), "", workflows.SignalPaymentIntent,
				workflows.PaymentIntentSignal{IntentID: "pi_1", Status: "requires_capture"})
		}

		// The first delivery dies while acting. A panic unwinds past the
		// release and the mark exactly as a killed process would skip them.
		signal().Run(func(mock.Arguments) { panic("process killed") }).Once()
		require.Equal(t, http.StatusInternalServerError, deliver().Code)

		// Within the lease the claimer might still be alive: Stripe is told
		// to retry, and nothing is signalled (the mock refuses extra calls).
		clock = start.Add(stripeEventLease - time.Second)
		requireError(t, deliver(), http.StatusConflict, codeStripeEventInProgress)

		// Past the lease the redelivery takes the event over and acts.
		clock = start.Add(stripeEventLease + time.Second)
		signal().Return(nil).Once()
		w := deliver()
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Nil(t, decodeBody(t, w)["duplicate"])
		e.temporal.AssertExpectations(t)

		// Handled now: later redeliveries, however late, are duplicates.
		clock = start.Add(10 * stripeEventLease)
		w = deliver()
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, true, decodeBody(t, w)["duplicate"])
	})
}
