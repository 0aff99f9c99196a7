package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// A Stripe step on someone's waiting path runs as a local activity first;
// when its local attempts fail without Stripe's word it goes on as a regular
// activity whose attempts are numbered on from the local ones, so no two
// tries share an idempotency key.
func TestStripeStepGoesOnDurablyAfterItsLocalAttempts(t *testing.T) {
	h := newHarness(t)
	unavailable := failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "503"))
	h.authorizeErr, h.authorizeFailures = unavailable, localStripeAttempts
	h.captureErr, h.captureFailures = unavailable, localStripeAttempts+1
	acc := h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateDeliver, "", deliver)
	h.updateAt(90*time.Minute, UpdateShip, "", ship)
	h.run(testInput())

	assert.Equal(t, models.StatusAuthorized, payResult(t, h).Status)
	assertOrder(t, acc, models.StatusAccepted)
	want := []stripeTry{
		{step: "AuthorizePayment", local: true}, {step: "AuthorizePayment", local: true},
		{step: "AuthorizePayment", before: localStripeAttempts},
		{step: "CapturePayment", local: true}, {step: "CapturePayment", local: true},
		{step: "CapturePayment", before: localStripeAttempts},
		{step: "CapturePayment", before: localStripeAttempts},
	}
	assert.Equal(t, want, h.stripeTries)
	calls, _, _ := h.snapshot()
	assert.NotContains(t, calls, "Search", "an answered authorization is not searched for")
}

// A refusal from Stripe is final: the local attempt that got it is the
// only try.
func TestStripeStepStopsAtARefusal(t *testing.T) {
	h := newHarness(t)
	h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "declined"))
	h.run(testInput())

	assert.Equal(t, models.StatusPaymentFailed, payResult(t, h).Status)
	require.Len(t, h.stripeTries, 1)
	assert.True(t, h.stripeTries[0].local)
}

// A delivered order's last event sequence is kept by the delivery's own
// status record: the workflow's end makes no write of its own for it.
func TestDeliveryKeepsTheEventSequence(t *testing.T) {
	h := newHarness(t)
	h.runToDelivered()

	assert.Equal(t, models.StatusDelivered, finalStatus(t, h).Status)
	require.NotEmpty(t, h.delivered)
	assert.Equal(t, EventOrderDelivered, h.delivered[len(h.delivered)-1].EventType)
	assert.Equal(t, h.delivered[len(h.delivered)-1].Sequence, h.savedSeq)
	assert.Zero(t, h.sequenceSaves, "no write of its own at the end")
}
