package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// lostIntentStripe is Stripe as the real FindAndVoidAuthorization sees it
// after an authorize whose answer was lost: the harness's lost intent,
// visible to search from its visibleFrom-th search on (search lag).
type lostIntentStripe struct {
	activities.Payments // unused methods: calling one panics the test
	h                   *harness
	visibleFrom         int
}

func (s lostIntentStripe) FindIntentByOrder(_ context.Context, orderID string) (payments.Intent, bool, error) {
	s.h.call("Search")
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.searches++
	if orderID != s.h.order.ID {
		s.h.t.Errorf("search for order %q, want %q", orderID, s.h.order.ID)
	}
	if s.h.lost == nil || s.h.searches < s.visibleFrom {
		return payments.Intent{}, false, nil
	}
	return *s.h.lost, true, nil
}

func (s lostIntentStripe) Cancel(_ context.Context, orderID, intentID string, _ int32) (payments.Intent, error) {
	s.h.call("Void:" + intentID)
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	in := *s.h.lost
	in.Status = payments.IntentCanceled
	s.h.lost = &in
	return in, nil
}

// findAndVoidAuthorization runs the real activity over lostIntentStripe, so
// the workflow tests see its decisions (void or not), not a fake's.
func (h *harness) findAndVoidAuthorization(ctx context.Context, orderID string) (activities.AuthorizationRecovery, error) {
	a := &activities.Activities{Payments: lostIntentStripe{h: h, visibleFrom: h.searchVisibleFrom}}
	return a.FindAndVoidAuthorization(ctx, orderID)
}

func TestPurchaseWorkflowAuthorizationOutcomeUnknown(t *testing.T) {
	unavailable := failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_unavailable", "503"))
	held := &payments.Intent{ID: "pi_lost", Status: payments.IntentRequiresCapture, Amount: 2000, AmountCapturable: 2000}
	canceled := &payments.Intent{ID: "pi_lost", Status: payments.IntentCanceled, Amount: 2000}
	cases := []struct {
		name        string
		lost        *payments.Intent
		visibleFrom int // search lag: the first search that sees the intent
		oldVersion  bool
		wantCalls   []string // every activity but AuthorizePayment's attempts and notifications
		wantIntent  string   // PaymentIntentID on the order
		wantFinal   string   // the lost intent's status at the end
		wantSearch  int
	}{
		{name: "held intent found and voided", lost: held,
			wantCalls:  []string{"ValidateOrder", "ReserveStock", "ReleaseStock", "Search", "RecordStatus:payment_failed", "Void:pi_lost", "RecordStatus:payment_failed"},
			wantIntent: "pi_lost", wantFinal: payments.IntentCanceled, wantSearch: 1},
		{name: "held intent found past the search lag", lost: held, visibleFrom: 4,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "ReleaseStock", "Search", "RecordStatus:payment_failed",
				"Search", "Search", "Search", "Void:pi_lost", "RecordStatus:payment_failed"},
			wantIntent: "pi_lost", wantFinal: payments.IntentCanceled, wantSearch: 4},
		{name: "nothing found, nothing voided",
			wantCalls: []string{"ValidateOrder", "ReserveStock", "ReleaseStock", "Search", "RecordStatus:payment_failed",
				"Search", "Search", "Search", "Search", "Search"},
			wantSearch: 6},
		{name: "already canceled intent is not voided again", lost: canceled,
			wantCalls:  []string{"ValidateOrder", "ReserveStock", "ReleaseStock", "Search", "RecordStatus:payment_failed", "RecordStatus:payment_failed"},
			wantIntent: "pi_lost", wantFinal: payments.IntentCanceled, wantSearch: 1},
		{name: "histories from before the change do not search", lost: held, oldVersion: true,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "ReleaseStock", "RecordStatus:payment_failed"},
			wantFinal: payments.IntentRequiresCapture},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.authorizeErr = unavailable
			h.lost, h.searchVisibleFrom = tc.lost, tc.visibleFrom
			if tc.oldVersion {
				h.startedBeforeLeanHistory()
				h.env.OnGetVersion(changeRecoverLostAuthorization, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			}
			start := h.env.Now()
			h.run(testInput())

			final, err := h.result()
			require.NoError(t, err)
			assert.Equal(t, models.StatusPaymentFailed, final.Status)
			assert.Equal(t, "payment_unavailable", final.FailureCode)
			assert.Equal(t, models.StatusPaymentFailed, payResult(t, h).Status)

			calls, _, stored := h.snapshot()
			assert.Equal(t, endingOrder(tc.wantCalls), endingOrder(slices.DeleteFunc(calls, func(c string) bool { return c == "AuthorizePayment" })))
			assert.Equal(t, tc.wantIntent, stored.PaymentIntentID, "the order names the intent it found")
			assert.Equal(t, models.StatusPaymentFailed, stored.Status)
			assert.False(t, h.reserved, "stock released")
			assert.Equal(t, tc.wantSearch, h.searches)
			if tc.lost != nil {
				assert.Equal(t, tc.wantFinal, h.lost.Status)
			}
			if tc.wantSearch == 6 {
				// Every search was needed: "nothing found" is believed only
				// after the span that outlasts Stripe's search lag.
				assert.GreaterOrEqual(t, h.env.Now().Sub(start), authorizeOptions.ScheduleToCloseTimeout+3*time.Minute)
			}
		})
	}
}

// A worker's timing shortens the give-up and the searches without changing
// what happens; the zero Timing is production's.
func TestAuthorizationRecoveryTiming(t *testing.T) {
	fast := Timing{AuthorizeTimeout: 3 * time.Second, AuthorizationSearchInterval: 50 * time.Millisecond}
	assert.Equal(t, 3*time.Second, fast.authorizeOptions().ScheduleToCloseTimeout)
	rp := fast.findAuthorizationOptions().RetryPolicy
	assert.Equal(t, 50*time.Millisecond, rp.InitialInterval)
	assert.Equal(t, findAuthorizationOptions.RetryPolicy.MaximumAttempts, rp.MaximumAttempts)

	assert.Equal(t, authorizeOptions, Timing{}.authorizeOptions())
	assert.Equal(t, findAuthorizationOptions, Timing{}.findAuthorizationOptions())
	assert.Equal(t, 15*time.Second, findAuthorizationOptions.RetryPolicy.InitialInterval, "the default is not changed by an override")
}
