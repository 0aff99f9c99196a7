package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

var (
	reject         = RejectInput{Actor: "merchant:mer_1", Reason: "out of stock"}
	voidImpossible = failures.ToTemporal(models.Invalid("intent_unexpected_state", "the intent cannot be canceled"))
)

// A reject during an hour-long Stripe outage: the reject answers at once,
// the stock goes back before the void is even tried, and the void lands
// once Stripe is back; the order reads rejected throughout and the workflow
// ends only when the money is back.
func TestRejectDuringAStripeOutageAnswersAtOnce(t *testing.T) {
	h := newHarness(t)
	// Six attempts, each answered "try again in 10 minutes": an hour of
	// outage (the test environment caps attempts at ten).
	h.voidErr, h.voidFailures = temporal.NewApplicationErrorWithOptions("Stripe is unreachable", string(models.KindUnavailable),
		temporal.ApplicationErrorOptions{NextRetryDelay: 10 * time.Minute}), 6
	start := h.env.Now()
	r := h.updateAt(time.Hour, UpdateReject, "", reject)
	var during models.Order
	h.env.RegisterDelayedCallback(func() { during = h.currentOrder() }, 90*time.Minute)
	h.run(testInput())

	require.True(t, r.completed)
	require.NoError(t, r.err)
	assert.Equal(t, models.StatusRejected, r.result.(models.Order).Status)
	assert.Equal(t, start.Add(time.Hour), r.at, "answered at once, not after the outage")
	assert.Equal(t, models.StatusRejected, during.Status, "rejected while the void is still retrying")
	calls, _, stored := h.snapshot()
	release, void := indexOf(calls, "ReleaseStock"), indexOf(calls, "VoidAuthorization")
	assert.Less(t, release, void, "stock released before the first void attempt")
	h.mu.Lock()
	assert.False(t, h.reserved)
	assert.Equal(t, 7, h.voids, "voided once Stripe answered")
	h.mu.Unlock()
	assert.GreaterOrEqual(t, h.env.Now().Sub(start), 2*time.Hour, "the workflow outlived the outage")
	assert.Equal(t, models.StatusRejected, stored.Status)
	assert.Equal(t, models.StatusRejected, finalStatus(t, h).Status)
}

// A void that can never succeed puts the order in needs_attention (not a
// silent "rejected"); an operator's retry that works returns it to rejected,
// with the failure code of the attention gone.
func TestVoidThatFailsForGoodNeedsAttentionUntilRetried(t *testing.T) {
	h := newHarness(t)
	h.voidErr, h.voidFailures = voidImpossible, 1
	h.updateAt(time.Hour, UpdateReject, "", reject)
	var seen models.Order
	h.env.RegisterDelayedCallback(func() { seen = h.currentOrder() }, 2*time.Hour)
	refused := h.updateAt(2*time.Hour, UpdateResolve, "", ResolveInput{Actor: "operator", Action: "shrug"})
	retry := h.updateAt(3*time.Hour, UpdateResolve, "", ResolveInput{Actor: "operator", Action: ResolveRetry})
	h.run(testInput())

	assert.Equal(t, models.StatusNeedsAttention, seen.Status)
	assert.Equal(t, "void_failed", seen.FailureCode)
	require.Error(t, refused.rejected, "an unknown action is refused by the validator")
	require.True(t, retry.completed)
	require.NoError(t, retry.err)
	h.mu.Lock()
	assert.Equal(t, 2, h.voids)
	h.mu.Unlock()
	o := finalStatus(t, h)
	assert.Equal(t, models.StatusRejected, o.Status)
	assert.Empty(t, o.FailureCode)
	_, _, stored := h.snapshot()
	assert.Equal(t, models.StatusRejected, stored.Status)
}

// An operator who gave the money back by other means resolves the order;
// the workflow then ends without voiding again.
func TestNeedsAttentionResolvedByAnOperator(t *testing.T) {
	h := newHarness(t)
	h.voidErr = voidImpossible
	h.updateAt(time.Hour, UpdateReject, "", reject)
	early := h.updateAt(30*time.Minute, UpdateResolve, "", ResolveInput{Actor: "operator", Action: ResolveResolved})
	done := h.updateAt(2*time.Hour, UpdateResolve, "", ResolveInput{Actor: "operator", Action: ResolveResolved, Note: "voided in the dashboard"})
	h.run(testInput())

	require.Error(t, early.rejected, "an order that does not need attention cannot be resolved")
	require.True(t, done.completed)
	h.mu.Lock()
	assert.Equal(t, 1, h.voids)
	h.mu.Unlock()
	assert.Equal(t, models.StatusRejected, finalStatus(t, h).Status)
}

func indexOf(calls []string, name string) int {
	for i, c := range calls {
		if c == name {
			return i
		}
	}
	return -1
}
