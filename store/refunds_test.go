package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// capturedOrder stores an order accepted with its 2500 captured.
func capturedOrder(t *testing.T, s *store.Store) models.Order {
	t.Helper()
	o := newOrder(t, s)
	ctx := ctxT(t)
	_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusAuthorized, Actor: "system", PaymentIntentID: "pi_" + o.ID})
	require.NoError(t, err)
	captured := o.AmountMinor
	o, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusAccepted, Actor: "merchant:m", CapturedMinor: &captured})
	require.NoError(t, err)
	require.Equal(t, int64(2500), o.CapturedMinor)
	return o
}

func TestRefundLedger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		pending := newOrder(t, s)
		_, _, err := s.ReserveRefund(ctx, models.NewRefund{OrderID: pending.ID, Key: "k", AmountMinor: 100, Actor: "merchant:m"})
		requireKind(t, err, models.KindConflict, "not_captured")

		o := capturedOrder(t, s)
		reserve := func(key string, amount int64) (models.Refund, models.Order, error) {
			return s.ReserveRefund(ctx, models.NewRefund{OrderID: o.ID, Key: key, AmountMinor: amount, Actor: "merchant:m"})
		}
		r1, after, err := reserve("r-1", 1000)
		require.NoError(t, err)
		require.Equal(t, models.RefundPending, r1.Status)
		require.Equal(t, int64(1000), after.RefundedMinor)

		again, after, err := reserve("r-1", 1000)
		require.NoError(t, err)
		require.Equal(t, r1.AmountMinor, again.AmountMinor)
		require.Equal(t, int64(1000), after.RefundedMinor, "a retry is not counted twice")
		_, _, err = reserve("r-1", 999)
		requireKind(t, err, models.KindInvalid, "idempotency_key_reused")

		_, _, err = reserve("r-2", 1000)
		require.NoError(t, err)
		_, _, err = reserve("r-3", 501)
		requireKind(t, err, models.KindConflict, "refund_exceeds_captured")

		// Stripe refusing r-2 gives its amount back to the refundable rest.
		failed, after, err := s.FinishRefund(ctx, o.ID, "r-2", "", false)
		require.NoError(t, err)
		require.Equal(t, models.RefundFailed, failed.Status)
		require.Equal(t, int64(1000), after.RefundedMinor)
		_, after, err = s.FinishRefund(ctx, o.ID, "r-2", "", false)
		require.NoError(t, err)
		require.Equal(t, int64(1000), after.RefundedMinor, "finishing twice changes nothing")

		done, _, err := s.FinishRefund(ctx, o.ID, "r-1", "re_1", true)
		require.NoError(t, err)
		require.Equal(t, models.RefundSucceeded, done.Status)
		require.Equal(t, "re_1", done.StripeRefundID)

		// Amount zero takes the rest (a buyer's cancel), then nothing is left.
		rest, after, err := reserve("cancel", 0)
		require.NoError(t, err)
		require.Equal(t, int64(1500), rest.AmountMinor)
		require.Equal(t, int64(2500), after.RefundedMinor)
		_, _, err = reserve("cancel", 0)
		require.NoError(t, err, "the same cancel again is a retry")
		_, _, err = reserve("other", 0)
		requireKind(t, err, models.KindConflict, "already_refunded")

		list, err := s.Refunds(ctx, o.ID)
		require.NoError(t, err)
		require.Len(t, list, 3)
		events, err := s.OrderEvents(ctx, o.ID)
		require.NoError(t, err)
		last := events[len(events)-1]
		require.Equal(t, models.StatusAccepted, last.From)
		require.Equal(t, models.StatusAccepted, last.To, "refund notes do not change the status")
	})
}

// Concurrent refunds of one order take turns on its row: together they
// never exceed the capture.
func TestRefundLedgerConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := capturedOrder(t, s)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = s.ReserveRefund(ctx, models.NewRefund{OrderID: o.ID, Key: string(rune('a' + i)), AmountMinor: 1000, Actor: "merchant:m"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireKind(t, err, models.KindConflict, "refund_exceeds_captured")
			}
		}
		require.Equal(t, 2, ok)
		got, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2000), got.RefundedMinor)
	})
}

func TestStripeEvents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := capturedOrder(t, s)

		// Claims in their states: stripe_events_test.go.
		id, err := s.OrderIDByPaymentIntent(ctx, "pi_"+o.ID)
		require.NoError(t, err)
		require.Equal(t, o.ID, id)
		_, err = s.OrderIDByPaymentIntent(ctx, "pi_unknown")
		requireKind(t, err, models.KindNotFound, "")

		before, err := s.OrderEvents(ctx, o.ID)
		require.NoError(t, err)
		for range 2 {
			d, err := s.MarkDisputed(ctx, o.ID, "dispute opened (fraudulent) for 2500")
			require.NoError(t, err)
			require.True(t, d.Disputed)
			require.Equal(t, models.StatusAccepted, d.Status)
		}
		after, err := s.OrderEvents(ctx, o.ID)
		require.NoError(t, err)
		require.Len(t, after, len(before)+1, "one audit event however often it is marked")
		_, err = s.MarkDisputed(ctx, "ord_missing", "x")
		requireKind(t, err, models.KindNotFound, "")

		require.NoError(t, s.AddOrderNote(ctx, o.ID, "stripe", "Stripe reports 2500 refunded in total"))
		requireKind(t, s.AddOrderNote(ctx, "ord_missing", "stripe", "x"), models.KindNotFound, "")
	})
}

// reservedRefund stores a captured order with a refund "r-1" of 1000 counted.
func reservedRefund(t *testing.T, s *store.Store) (context.Context, models.Order) {
	ctx := ctxT(t)
	o := capturedOrder(t, s)
	_, _, err := s.ReserveRefund(ctx, models.NewRefund{OrderID: o.ID, Key: "r-1", AmountMinor: 1000, Actor: "merchant:m"})
	require.NoError(t, err)
	return ctx, o
}

// A refund at Stripe moves only forward — pending, succeeded, failed — and a
// failure, even after success, stops counting its amount.
func TestRecordStripeRefund(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx, o := reservedRefund(t, s)
		var err error

		_, _, err = s.RecordStripeRefundByID(ctx, o.ID, "re_1", models.RefundSucceeded)
		requireKind(t, err, models.KindNotFound, "")
		rf, after, err := s.RecordStripeRefund(ctx, o.ID, "r-1", "re_1", models.RefundPending)
		require.NoError(t, err)
		require.Equal(t, models.RefundPending, rf.Status)
		require.Equal(t, "re_1", rf.StripeRefundID, "a pending refund is linked to Stripe's")
		require.Equal(t, int64(1000), after.RefundedMinor)

		steps := []struct {
			status       models.RefundStatus
			want         models.RefundStatus
			wantRefunded int64
		}{
			{models.RefundSucceeded, models.RefundSucceeded, 1000},
			{models.RefundPending, models.RefundSucceeded, 1000}, // late news changes nothing
			{models.RefundFailed, models.RefundFailed, 0},
			{models.RefundFailed, models.RefundFailed, 0},    // once
			{models.RefundSucceeded, models.RefundFailed, 0}, // final
		}
		for i, st := range steps {
			rf, after, err := s.RecordStripeRefundByID(ctx, o.ID, "re_1", st.status)
			require.NoError(t, err, "step %d", i)
			require.Equal(t, st.want, rf.Status, "step %d", i)
			require.Equal(t, st.wantRefunded, after.RefundedMinor, "step %d", i)
		}
		_, _, err = s.RecordStripeRefund(ctx, o.ID, "r-1", "", "settled")
		requireKind(t, err, models.KindInvalid, "invalid_refund_status")
	})
}

// The same Stripe news written twice at once moves the refund once: the
// status before each write is read under the order's lock, so exactly one
// writer sees the move (the other sees it already failed).
func TestMoveStripeRefundAnswersTheStatusBefore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx, o := reservedRefund(t, s)
		_, _, before, err := s.MoveStripeRefund(ctx, o.ID, "r-1", "re_1", models.RefundSucceeded)
		require.NoError(t, err)
		require.Equal(t, models.RefundPending, before)

		var wg sync.WaitGroup
		befores := make([]models.RefundStatus, 4)
		errs := make([]error, len(befores))
		for i := range befores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, befores[i], errs[i] = s.MoveStripeRefund(ctx, o.ID, "r-1", "re_1", models.RefundFailed)
			}()
		}
		wg.Wait()
		moved := 0
		for i, b := range befores {
			if errs[i] != nil {
				continue // SQLite may refuse a writer while another holds the database
			}
			if b == models.RefundSucceeded {
				moved++
			} else {
				require.Equal(t, models.RefundFailed, b, "writer %d", i)
			}
		}
		require.Equal(t, 1, moved, "writers that saw the refund move (errors %v)", errs)
		after, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), after.RefundedMinor)
	})
}

// A dispute is open, then won (no longer disputed) or lost (still disputed);
// a closed dispute is final.
func TestRecordDispute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		for _, tc := range []struct {
			outcome      string
			wantDisputed bool
		}{{models.DisputeWon, false}, {models.DisputeLost, true}} {
			o := capturedOrder(t, s)
			before, err := s.OrderEvents(ctx, o.ID)
			require.NoError(t, err)
			steps := []struct {
				status, wantStatus string
				wantDisputed       bool
			}{
				{models.DisputeNeedsResponse, models.DisputeNeedsResponse, true},
				{"under_review", "under_review", true},
				{tc.outcome, tc.outcome, tc.wantDisputed},
				{"under_review", tc.outcome, tc.wantDisputed}, // late news of a closed dispute
			}
			for i, st := range steps {
				d, err := s.RecordDispute(ctx, o.ID, st.status, "dispute "+st.status)
				require.NoError(t, err)
				require.Equal(t, st.wantStatus, d.DisputeStatus, "%s step %d", tc.outcome, i)
				require.Equal(t, st.wantDisputed, d.Disputed, "%s step %d", tc.outcome, i)
				require.Equal(t, models.StatusAccepted, d.Status)
			}
			after, err := s.OrderEvents(ctx, o.ID)
			require.NoError(t, err)
			require.Len(t, after, len(before)+3, "one audit event per change")
		}
	})
}
