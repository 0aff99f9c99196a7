package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

func merchantRefund(key string, amount int64) RefundInput {
	return RefundInput{OrderID: "ord_test1", Key: key, Amount: amount, Reason: "damaged", Actor: "merchant:mer_1"}
}

func refundAnswer(t *testing.T, u *updateOutcome) RefundResult {
	t.Helper()
	require.True(t, u.accepted, "refund accepted (rejected: %v)", u.rejected)
	require.True(t, u.completed)
	require.NoError(t, u.err)
	r, ok := u.result.(RefundResult)
	require.True(t, ok, "refund answers a RefundResult, got %T", u.result)
	return r
}

func errorCode(err error) string {
	var e *models.Error
	if errors.As(failures.FromTemporal(err), &e) {
		return e.Code
	}
	return ""
}

// Refunds are updates of the order's workflow: two at once that together
// exceed the capture are serialized (one succeeds, the other is refused, by
// the validator or the handler); a repeat of the first, under another
// update id, answers the same refund without asking Stripe again; the key
// for another amount is refused.
func TestRefundUpdatesAreSerializedAndIdempotent(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	first := h.updateAt(2*time.Hour, UpdateRefund, "u-1", merchantRefund("r-1", 1500))
	second := h.updateAt(2*time.Hour, UpdateRefund, "u-2", merchantRefund("r-2", 1000))
	repeat := h.updateAt(3*time.Hour, UpdateRefund, "u-3", merchantRefund("r-1", 1500))
	reused := h.updateAt(3*time.Hour, UpdateRefund, "u-4", merchantRefund("r-1", 700))
	h.updateAt(4*time.Hour, UpdateShip, "", ship)
	h.updateAt(5*time.Hour, UpdateDeliver, "", deliver)
	h.run(testInput())

	got := refundAnswer(t, first)
	assert.Equal(t, models.RefundSucceeded, got.Refund.Status)
	assert.Equal(t, int64(1500), got.Refund.AmountMinor)
	if second.rejected != nil {
		assert.Equal(t, "refund_exceeds_captured", errorCode(second.rejected))
	} else {
		assert.Equal(t, "refund_exceeds_captured", errorCode(second.err))
	}
	again := refundAnswer(t, repeat)
	assert.Equal(t, got.Refund.StripeRefundID, again.Refund.StripeRefundID)
	require.Error(t, reused.rejected)
	assert.Equal(t, "idempotency_key_reused", errorCode(reused.rejected))

	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.stripeCalls, 1, "Stripe asked once")
	assert.Equal(t, activities.RefundStep("r-1"), h.stripeCalls[0].Step)
	assert.Equal(t, int64(1500), h.order.RefundedMinor)
	var refunded []activities.NotifyInput
	for _, ev := range h.delivered {
		if ev.EventType == EventOrderRefunded {
			refunded = append(refunded, ev)
		}
	}
	require.Len(t, refunded, 1)
	assert.Equal(t, activities.RefundRef("r-1"), refunded[0].Ref)
	assert.Equal(t, models.StatusDelivered, finalStatus(t, h).Status)
	assert.Equal(t, h.delivered[len(h.delivered)-1].Sequence, h.savedSeq, "the last sequence is kept for after the end")
}

// A merchant's refund that Stripe accepts and then fails gives its amount
// back to the capture: the buyer's cancel then refunds exactly all of it.
// The merchant hears order.refund_failed with Stripe's reason.
func TestRefundFailedAtStripeThenCancelRefundsTheRemainder(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	first := h.updateAt(2*time.Hour, UpdateRefund, "u-1", merchantRefund("r-1", 500))
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalStripeMoney, StripeMoneyEvent{EventID: "evt_1", Kind: MoneyEventRefund, ObjectID: "re_1",
			Status: payments.RefundFailed, FailureReason: "lost_or_stolen_card"})
	}, 3*time.Hour)
	c := h.updateAt(4*time.Hour, UpdateCancel, "", cancel)
	h.run(testInput())

	assert.Equal(t, models.RefundSucceeded, refundAnswer(t, first).Refund.Status)
	assertOrder(t, c, models.StatusCancelled)
	o := finalStatus(t, h)
	assert.Equal(t, models.StatusCancelled, o.Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.stripeCalls, 2)
	assert.Equal(t, int64(2000), h.stripeCalls[1].Amount, "the cancel refunds the whole capture")
	assert.Equal(t, activities.RefundStep(activities.RefundKeyCancel), h.stripeCalls[1].Step)
	assert.Equal(t, int64(2000), h.order.RefundedMinor)
	var failed *activities.NotifyInput
	for i, ev := range h.delivered {
		if ev.EventType == EventOrderRefundFailed {
			failed = &h.delivered[i]
		}
	}
	require.NotNil(t, failed, "order.refund_failed sent")
	require.NotNil(t, failed.Refund)
	assert.Equal(t, int64(500), failed.Refund.Amount)
	assert.Equal(t, "lost_or_stolen_card", failed.Refund.FailureReason)
	for i := 1; i < len(h.delivered); i++ {
		assert.Greater(t, h.delivered[i].Sequence, h.delivered[i-1].Sequence, "events in sequence")
	}
}

// The buyer's cancel refund is pending at Stripe when the order ends; when
// Stripe later fails it, the order does not read cancelled as if the money
// went back: it needs an operator, whose retry refunds the remainder under
// a new key.
func TestCancelRefundFailingLaterNeedsAttention(t *testing.T) {
	h := newHarness(t)
	h.stripeRefund = func(r payments.RefundRequest) (payments.Refund, error) {
		if r.Step == activities.RefundStep(activities.RefundKeyCancel) {
			return payments.Refund{ID: "re_cancel", Status: payments.RefundPending, Amount: r.Amount}, nil
		}
		return payments.Refund{ID: "re_retry", Status: payments.RefundSucceeded, Amount: r.Amount}, nil
	}
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateCancel, "", cancel)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalStripeMoney, StripeMoneyEvent{EventID: "evt_f", Kind: MoneyEventRefund, ObjectID: "re_cancel",
			Status: payments.RefundFailed, FailureReason: "expired_or_canceled_card"})
	}, 3*24*time.Hour)
	var during models.Order
	h.env.RegisterDelayedCallback(func() { during = h.currentOrder() }, 4*24*time.Hour)
	resolved := h.updateAt(5*24*time.Hour, UpdateResolve, "", ResolveInput{Actor: "operator", Action: ResolveRetry})
	h.run(testInput())

	assert.Equal(t, models.StatusNeedsAttention, during.Status)
	assert.Equal(t, "refund_failed", during.FailureCode)
	assert.True(t, resolved.completed)
	require.NoError(t, resolved.err)
	assert.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.stripeCalls, 2)
	assert.Equal(t, activities.RefundStep(activities.RefundKeyCancel+"-2"), h.stripeCalls[1].Step)
	assert.Equal(t, int64(2000), h.stripeCalls[1].Amount)
	assert.Equal(t, int64(2000), h.order.RefundedMinor)
}

// A dispute's news reaches the order and the merchant as sequenced events:
// order.disputed, then order.dispute_closed with the outcome.
func TestDisputeNewsIsSequencedThroughTheOutbox(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	for i, st := range []string{models.DisputeNeedsResponse, "under_review", models.DisputeLost} {
		h.env.RegisterDelayedCallback(func() {
			h.env.SignalWorkflow(SignalStripeMoney, StripeMoneyEvent{EventID: "evt_d" + st, Kind: MoneyEventDispute,
				ObjectID: "dp_1", Status: st, Amount: 2000, Reason: "fraudulent"})
		}, time.Duration(2+i)*time.Hour)
	}
	h.updateAt(6*time.Hour, UpdateShip, "", ship)
	h.updateAt(7*time.Hour, UpdateDeliver, "", deliver)
	h.run(testInput())

	h.mu.Lock()
	defer h.mu.Unlock()
	var types []string
	for _, ev := range h.delivered {
		types = append(types, ev.EventType)
		if ev.EventType == EventOrderDisputeClosed {
			require.NotNil(t, ev.Dispute)
			assert.Equal(t, models.DisputeLost, ev.Dispute.Status)
			assert.Equal(t, int64(2000), ev.Dispute.Amount)
			assert.Equal(t, "fraudulent", ev.Dispute.Reason)
		}
	}
	assert.Equal(t, []string{EventOrderCreated, EventOrderDisputed, EventOrderDisputeClosed, EventOrderDelivered}, types)
	assert.True(t, h.order.Disputed)
}

// endedHarness runs EndedOrderWorkflow with the harness's ledger and Stripe
// fakes and an order that has ended delivered.
func endedHarness(t *testing.T) (*harness, *[]activities.NotifyInput) {
	h := newHarness(t)
	h.order = models.Order{ID: "ord_test1", MerchantID: "mer_1", Status: models.StatusDelivered, AmountMinor: 2000,
		CapturedMinor: 2000, Currency: "usd", PaymentIntentID: "pi_1"}
	h.env.OnActivity(acts.LoadOrder, mock.Anything, mock.Anything).Return(func(context.Context, string) (models.Order, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.order, nil
	})
	h.env.OnActivity(acts.TakeEventSequences, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ string, n int) (int, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			first := h.savedSeq + 1
			h.savedSeq += n
			return first, nil
		})
	h.savedSeq = 4 // the order's workflow sent four events
	return h, &h.delivered
}

// A refund after the order's workflow ended runs in a short workflow with
// the same steps, and the merchant's order.refunded continues the order's
// sequence.
func TestEndedOrderRefund(t *testing.T) {
	h, sent := endedHarness(t)
	in := merchantRefund("late-1", 800)
	h.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", Refund: &in})
	require.True(t, h.env.IsWorkflowCompleted())
	var res RefundResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	assert.Equal(t, models.RefundSucceeded, res.Refund.Status)
	calls, _, o := h.snapshot()
	assert.Equal(t, []string{"CountRefund", "CreateRefund", "RecordRefund:succeeded"}, calls)
	assert.Equal(t, int64(800), o.RefundedMinor)
	require.Len(t, *sent, 1)
	assert.Equal(t, EventOrderRefunded, (*sent)[0].EventType)
	assert.Equal(t, activities.RefundRef("late-1"), (*sent)[0].Ref)
	assert.Equal(t, 5, (*sent)[0].Sequence)
}

// Beyond the capture, the ledger refuses a late refund: nothing reaches Stripe.
func TestEndedOrderRefundBeyondTheCaptureIsRefused(t *testing.T) {
	h, sent := endedHarness(t)
	in := merchantRefund("late-2", 2500)
	h.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", Refund: &in})
	require.True(t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	require.Error(t, err)
	assert.Equal(t, "refund_exceeds_captured", errorCode(err))
	calls, _, _ := h.snapshot()
	assert.Equal(t, []string{"CountRefund"}, calls)
	assert.Empty(t, *sent)
}

// Stripe's news of a refund failing after the order ended: the ledger
// releases it and the merchant hears order.refund_failed, in sequence.
func TestEndedOrderRefundFailedNews(t *testing.T) {
	h, sent := endedHarness(t)
	h.ledger = []models.Refund{{OrderID: "ord_test1", Key: "r-9", AmountMinor: 600, Currency: "usd",
		Status: models.RefundSucceeded, StripeRefundID: "re_9"}}
	h.order.RefundedMinor = 600
	news := StripeMoneyEvent{EventID: "evt_9", Kind: MoneyEventRefund, ObjectID: "re_9", Status: payments.RefundFailed,
		FailureReason: "lost_or_stolen_card"}
	h.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", News: &news})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	_, _, o := h.snapshot()
	assert.Equal(t, int64(0), o.RefundedMinor)
	require.Len(t, *sent, 1)
	ev := (*sent)[0]
	assert.Equal(t, EventOrderRefundFailed, ev.EventType)
	assert.Equal(t, activities.RefundRef("r-9"), ev.Ref)
	assert.Equal(t, 5, ev.Sequence)
	require.NotNil(t, ev.Refund)
	assert.Equal(t, "lost_or_stolen_card", ev.Refund.FailureReason)
}

// News of one of our refunds that overtakes the late refund recording its
// Stripe id waits for it, then applies.
func TestEndedOrderNewsWaitsForTheRefundToBeRecorded(t *testing.T) {
	h, sent := endedHarness(t)
	h.ledger = []models.Refund{{OrderID: "ord_test1", Key: "r-7", AmountMinor: 400, Currency: "usd", Status: models.RefundPending}}
	h.order.RefundedMinor = 400
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.ledger[0].StripeRefundID = "re_7"
	}, 70*time.Second)
	news := StripeMoneyEvent{EventID: "evt_7", Kind: MoneyEventRefund, ObjectID: "re_7", Status: payments.RefundSucceeded, Ours: true}
	h.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", News: &news})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, models.RefundSucceeded, h.ledger[0].Status)
	require.Len(t, *sent, 1)
	assert.Equal(t, EventOrderRefunded, (*sent)[0].EventType)
	assert.Equal(t, activities.RefundRef("r-7"), (*sent)[0].Ref)
}

// A buyer's cancel on a disputed charge: Stripe refuses the refund
// (charge_disputed), so the order does not read cancelled as if the money
// went back; it needs an operator.
func TestCancelOfADisputedChargeNeedsAttention(t *testing.T) {
	h := newHarness(t)
	h.stripeRefund = func(payments.RefundRequest) (payments.Refund, error) {
		return payments.Refund{}, failures.ToTemporal(models.Conflict("charge_disputed", "the charge is disputed"))
	}
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalStripeMoney, StripeMoneyEvent{EventID: "evt_d", Kind: MoneyEventDispute,
			ObjectID: "dp_1", Status: models.DisputeNeedsResponse, Amount: 2000})
	}, 2*time.Hour)
	h.updateAt(3*time.Hour, UpdateCancel, "", cancel)
	var during models.Order
	h.env.RegisterDelayedCallback(func() { during = h.currentOrder() }, 4*time.Hour)
	h.updateAt(5*time.Hour, UpdateResolve, "", ResolveInput{Actor: "operator", Action: ResolveResolved, Note: "settled in the dispute"})
	h.run(testInput())

	assert.Equal(t, models.StatusNeedsAttention, during.Status)
	assert.Equal(t, "refund_failed", during.FailureCode)
	assert.True(t, during.Disputed)
	assert.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, int64(0), h.order.RefundedMinor, "a refused refund is not counted")
}

// Stripe does not answer a refund for more than the week of retries: the
// request is answered pending (counted, nothing refunded twice), Stripe is
// asked again later, and once it answers the merchant hears order.refunded.
func TestRefundUnansweredForAWeekIsAskedAgainLater(t *testing.T) {
	h := newHarness(t)
	down := true
	h.stripeRefund = func(r payments.RefundRequest) (payments.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if down {
			return payments.Refund{}, temporal.NewApplicationErrorWithOptions("Stripe is unreachable", string(models.KindUnavailable),
				temporal.ApplicationErrorOptions{NextRetryDelay: 24 * time.Hour})
		}
		return payments.Refund{ID: "re_late", Status: payments.RefundSucceeded, Amount: r.Amount}, nil
	}
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	asked := h.updateAt(2*time.Hour, UpdateRefund, "u-1", merchantRefund("r-1", 700))
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		down = false
	}, 8*24*time.Hour)
	h.updateAt(3*time.Hour, UpdateShip, "", ship)
	h.updateAt(4*time.Hour, UpdateDeliver, "", deliver)
	h.run(testInput())

	got := refundAnswer(t, asked)
	assert.Equal(t, models.RefundPending, got.Refund.Status)
	assert.Equal(t, models.StatusDelivered, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, models.RefundSucceeded, h.ledger[0].Status)
	assert.Equal(t, "re_late", h.ledger[0].StripeRefundID)
	assert.Equal(t, int64(700), h.order.RefundedMinor)
	var refunded int
	for _, ev := range h.delivered {
		if ev.EventType == EventOrderRefunded {
			refunded++
		}
	}
	assert.Equal(t, 1, refunded)
}

// A merchant's refund still in flight when the buyer cancels is counted:
// the cancel refunds only the rest, never more than the capture.
func TestCancelDuringAMerchantRefundRefundsOnlyTheRest(t *testing.T) {
	h := newHarness(t)
	merchantTries := 0
	h.stripeRefund = func(r payments.RefundRequest) (payments.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Step == activities.RefundStep("r-1") {
			merchantTries++
			if merchantTries < 3 {
				return payments.Refund{}, temporal.NewApplicationErrorWithOptions("Stripe is slow", string(models.KindUnavailable),
					temporal.ApplicationErrorOptions{NextRetryDelay: time.Hour})
			}
			return payments.Refund{ID: "re_merchant", Status: payments.RefundSucceeded, Amount: r.Amount}, nil
		}
		return payments.Refund{ID: "re_" + r.Step, Status: payments.RefundSucceeded, Amount: r.Amount}, nil
	}
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	refund := h.updateAt(2*time.Hour, UpdateRefund, "u-1", merchantRefund("r-1", 500))
	c := h.updateAt(2*time.Hour+30*time.Minute, UpdateCancel, "", cancel)
	h.run(testInput())

	assertOrder(t, c, models.StatusCancelled)
	assert.Less(t, c.at, refund.at, "the cancel answered while the refund was in flight")
	assert.Equal(t, models.RefundSucceeded, refundAnswer(t, refund).Refund.Status)
	assert.Equal(t, models.StatusCancelled, finalStatus(t, h).Status)
	h.mu.Lock()
	defer h.mu.Unlock()
	amounts := map[string]int64{}
	for _, r := range h.stripeCalls {
		amounts[r.Step] = r.Amount
	}
	assert.Equal(t, int64(1500), amounts[activities.RefundStep(activities.RefundKeyCancel)], "the cancel refunds only the rest")
	assert.Equal(t, int64(2000), h.order.RefundedMinor)
}

// A refund of a cancelled order that Stripe fails after the order's
// workflow ended: the ended-order workflow puts the order in
// needs_attention (the buyer is short), and an operator's retry refunds
// exactly what failed and returns it to cancelled.
func TestEndedCancelledOrderWithAFailedRefundNeedsAttentionUntilRetried(t *testing.T) {
	h, sent := endedHarness(t)
	h.order.Status = models.StatusCancelled
	h.order.RefundedMinor = 2000
	h.ledger = []models.Refund{
		{OrderID: "ord_test1", Key: "r-1", AmountMinor: 500, Currency: "usd", Status: models.RefundSucceeded, StripeRefundID: "re_m"},
		{OrderID: "ord_test1", Key: activities.RefundKeyCancel, AmountMinor: 1500, Currency: "usd", Status: models.RefundSucceeded, StripeRefundID: "re_c"},
	}
	news := StripeMoneyEvent{EventID: "evt_f", Kind: MoneyEventRefund, ObjectID: "re_m", Status: payments.RefundFailed, FailureReason: "lost_or_stolen_card"}
	h.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", News: &news})
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	_, _, o := h.snapshot()
	assert.Equal(t, models.StatusNeedsAttention, o.Status)
	assert.Equal(t, "refund_failed", o.FailureCode)
	assert.Equal(t, int64(1500), o.RefundedMinor)

	retry := newHarness(t)
	retry.order, retry.ledger, retry.savedSeq = o, h.ledger, h.savedSeq
	retry.env.OnActivity(acts.LoadOrder, mock.Anything, mock.Anything).Return(func(context.Context, string) (models.Order, error) {
		retry.mu.Lock()
		defer retry.mu.Unlock()
		return retry.order, nil
	})
	retry.env.OnActivity(acts.TakeEventSequences, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ string, n int) (int, error) { return retry.savedSeq + 1, nil })
	in := ResolveInput{Actor: "operator", Action: ResolveRetry}
	retry.env.ExecuteWorkflow(EndedOrderWorkflow, EndedOrderInput{OrderID: "ord_test1", Resolve: &in})
	require.True(t, retry.env.IsWorkflowCompleted())
	require.NoError(t, retry.env.GetWorkflowError())
	_, _, after := retry.snapshot()
	assert.Equal(t, models.StatusCancelled, after.Status)
	assert.Equal(t, int64(2000), after.RefundedMinor)
	require.Len(t, retry.stripeCalls, 1)
	assert.Equal(t, int64(500), retry.stripeCalls[0].Amount, "exactly what failed")
	require.Len(t, *sent, 1)
	assert.Equal(t, EventOrderRefundFailed, (*sent)[0].EventType)
	require.Len(t, retry.delivered, 1)
	assert.Equal(t, EventOrderRefunded, retry.delivered[0].EventType)
}
