package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// requiresAction makes the authorization ask for 3-D Secure.
func requiresAction(h *harness) {
	h.intent.Status, h.intent.ClientSecret, h.intent.NextActionType = payments.IntentRequiresAction, "pi_1_secret_x", "use_stripe_sdk"
}

func finalStatus(t *testing.T, h *harness) models.Order {
	t.Helper()
	o, err := h.result()
	require.NoError(t, err)
	return o
}

func TestPaymentActionAnswersWithNextAction(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	h.run(testInput())
	r := payResult(t, h)
	assert.Equal(t, models.StatusRequiresAction, r.Status)
	assert.Equal(t, "pi_1_secret_x", r.ClientSecret)
	assert.Equal(t, "use_stripe_sdk", r.NextActionType)
}

// A webhook whose status is stale (delivered late, or out of order) does not
// decide: the workflow reads the intent and keeps waiting while Stripe still
// waits for the buyer.
func TestPaymentActionDecidesOnTheIntentNotTheEvent(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	h.env.RegisterDelayedCallback(func() {
		// Claims a failure, but Stripe still says requires_action (the buyer
		// is retrying the challenge).
		h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_1", Status: payments.IntentRequiresPaymentMethod})
	}, time.Minute)
	h.env.RegisterDelayedCallback(func() {
		h.setRemote(payments.IntentRequiresCapture)
		// Stale again, the other way: the intent decides.
		h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_1", Status: payments.IntentRequiresPaymentMethod})
		h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_1", Status: payments.IntentRequiresCapture})
	}, 3*time.Minute)
	h.updateAt(time.Hour, UpdateReject, "", RejectInput{Actor: "merchant:mer_1"})
	h.run(testInput())

	assert.Equal(t, models.StatusRejected, finalStatus(t, h).Status)
	calls, notified, _ := h.snapshot()
	assert.Equal(t, endingOrder([]string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:requires_action",
		"RecordStatus:authorized", "ReleaseStock", "VoidAuthorization", "RecordStatus:rejected"}), endingOrder(calls),
		"authorized once, after the second webhook; duplicates change nothing")
	assert.Contains(t, notified, EventOrderCreated)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.GreaterOrEqual(t, h.reads, 2, "each webhook led to a read of the intent")
}

// A lost webhook does not lose a completed authentication: at the deadline
// the workflow reads the intent once more.
func TestPaymentActionDeadlineReadsTheIntent(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	h.env.RegisterDelayedCallback(func() { h.setRemote(payments.IntentRequiresCapture) }, time.Minute)
	h.updateAt(PaymentActionTimeout+time.Minute, UpdateReject, "", RejectInput{Actor: "merchant:mer_1"})
	h.run(testInput())

	calls, _, _ := h.snapshot()
	assert.Contains(t, calls, "RecordStatus:authorized")
	assert.NotContains(t, calls, "RecordStatus:expired")
	assert.Equal(t, models.StatusRejected, finalStatus(t, h).Status)
}

// Abandoned: the intent is cancelled and the stock released after the
// deadline from the input, not before.
func TestPaymentActionAbandonedAfterTheInputDeadline(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	in := testInput()
	in.PaymentActionTimeout = 2 * time.Minute
	start := h.env.Now()
	h.run(in)

	o := finalStatus(t, h)
	assert.Equal(t, models.StatusExpired, o.Status)
	assert.Equal(t, "authentication_timeout", o.FailureCode)
	elapsed := h.env.Now().Sub(start)
	assert.GreaterOrEqual(t, elapsed, 2*time.Minute)
	assert.Less(t, elapsed, PaymentActionTimeout)
	calls, _, _ := h.snapshot()
	assert.Equal(t, endingOrder([]string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:requires_action",
		"ReleaseStock", "VoidAuthorization", "RecordStatus:expired"}), endingOrder(calls))
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.False(t, h.reserved)
}

// A webhook for another intent neither decides nor triggers a read.
func TestPaymentActionIgnoresOtherIntents(t *testing.T) {
	h := newHarness(t)
	requiresAction(h)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_other", Status: payments.IntentCanceled})
	}, time.Minute)
	h.run(testInput())
	assert.Equal(t, models.StatusExpired, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, 1, h.reads, "only the read at the deadline")
}
