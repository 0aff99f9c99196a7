package store_test

import (
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestCreateOrderIsIdempotent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 5)
		in := orderFor(m.ID, p, "buyer_1")

		first, err := s.CreateOrder(ctx, in)
		require.NoError(t, err)
		require.Equal(t, models.StatusPending, first.Status)
		require.False(t, first.CreatedAt.IsZero())
		require.Equal(t, first.CreatedAt, first.UpdatedAt)
		want := in
		want.Status, want.CreatedAt, want.UpdatedAt = models.StatusPending, first.CreatedAt, first.UpdatedAt
		require.Equal(t, want, first)

		got, err := s.Order(ctx, in.ID)
		require.NoError(t, err)
		require.Equal(t, first, got)

		changed := in
		changed.Quantity, changed.AmountMinor = 1, p.PriceMinor
		changed.Shipping.City = "Paris"
		again, err := s.CreateOrder(ctx, changed)
		require.NoError(t, err)
		require.Equal(t, first, again, "the stored order is returned unchanged")

		_, err = s.Order(ctx, "ord_missing")
		requireKind(t, err, models.KindNotFound, "not_found")
		_, err = s.CreateOrder(ctx, models.Order{ID: "bad id!"})
		requireKind(t, err, models.KindInvalid, "invalid_order_id")
	})
}

func TestCreateOrderKeepsGivenTimes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		m := newMerchant(t, s)
		in := orderFor(m.ID, newProduct(t, s, m.ID, 1), "buyer_1")
		at := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", 3600))
		in.CreatedAt, in.UpdatedAt = at, at
		o, err := s.CreateOrder(ctxT(t), in)
		require.NoError(t, err)
		want := at.UTC().Truncate(time.Microsecond)
		require.Equal(t, want, o.CreatedAt)
		require.Equal(t, want, o.UpdatedAt)
	})
}

func ptr[T any](v T) *T { return &v }

func TestApplyStatusChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)

		authorized, err := s.ApplyStatusChange(ctx, models.StatusChange{
			OrderID: o.ID, To: models.StatusAuthorized, Actor: models.ActorSystem, Detail: "card authorized", PaymentIntentID: "pi_1",
		})
		require.NoError(t, err)
		require.Equal(t, models.StatusAuthorized, authorized.Status)
		require.Equal(t, "pi_1", authorized.PaymentIntentID)
		require.False(t, authorized.UpdatedAt.Before(o.UpdatedAt))

		accepted, err := s.ApplyStatusChange(ctx, models.StatusChange{
			OrderID: o.ID, To: models.StatusAccepted, Actor: models.MerchantActor(o.MerchantID), CapturedMinor: ptr(o.AmountMinor),
		})
		require.NoError(t, err)
		require.Equal(t, models.StatusAccepted, accepted.Status)
		require.Equal(t, o.AmountMinor, accepted.CapturedMinor)
		require.Equal(t, "pi_1", accepted.PaymentIntentID, "a change without an intent id keeps the stored one")

		// A retried change: no second event, facts still applied.
		retried, err := s.ApplyStatusChange(ctx, models.StatusChange{
			OrderID: o.ID, To: models.StatusAccepted, Actor: models.MerchantActor(o.MerchantID), RefundedMinor: ptr(int64(0)),
			Carrier: "UPS",
		})
		require.NoError(t, err)
		require.Equal(t, models.StatusAccepted, retried.Status)
		require.Equal(t, "UPS", retried.Carrier)
		require.Equal(t, o.AmountMinor, retried.CapturedMinor)

		_, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusPending, Actor: models.ActorSystem})
		requireKind(t, err, models.KindConflict, "invalid_transition")

		shipped, err := s.ApplyStatusChange(ctx, models.StatusChange{
			OrderID: o.ID, To: models.StatusShipped, Actor: models.MerchantActor(o.MerchantID),
			TrackingNumber: "1Z999", TrackingURL: "https://ups.example/1Z999",
		})
		require.NoError(t, err)
		require.Equal(t, "UPS", shipped.Carrier)
		require.Equal(t, "1Z999", shipped.TrackingNumber)
		require.Equal(t, o.Shipping, shipped.Shipping)

		stored, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, shipped, stored)

		events, err := s.OrderEvents(ctx, o.ID)
		require.NoError(t, err)
		type ev struct {
			From, To      models.OrderStatus
			Actor, Detail string
		}
		var got []ev
		for i, e := range events {
			require.Equal(t, o.ID, e.OrderID)
			require.False(t, e.CreatedAt.IsZero())
			if i > 0 {
				require.Greater(t, e.ID, events[i-1].ID)
			}
			got = append(got, ev{e.From, e.To, e.Actor, e.Detail})
		}
		require.Equal(t, []ev{
			{models.StatusPending, models.StatusAuthorized, models.ActorSystem, "card authorized"},
			{models.StatusAuthorized, models.StatusAccepted, models.MerchantActor(o.MerchantID), ""},
			{models.StatusAccepted, models.StatusShipped, models.MerchantActor(o.MerchantID), ""},
		}, got)

		_, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: "ord_missing", To: models.StatusAuthorized})
		requireKind(t, err, models.KindNotFound, "not_found")
		none, err := s.OrderEvents(ctx, "ord_missing")
		require.NoError(t, err)
		require.Empty(t, none)
	})
}

func TestApplyStatusChangeConcurrently(t *testing.T) {
	// Two racing terminal changes: exactly one wins, and the log shows one.
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusAuthorized, Actor: models.ActorSystem})
		require.NoError(t, err)

		targets := []models.OrderStatus{models.StatusRejected, models.StatusExpired, models.StatusCancelled, models.StatusRejected}
		errs := make(chan error, len(targets))
		for _, to := range targets {
			go func() {
				_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: to, Actor: models.ActorSystem})
				errs <- err
			}()
		}
		for range targets {
			if err := <-errs; err != nil {
				requireKind(t, err, models.KindConflict, "invalid_transition")
			}
		}
		events, err := s.OrderEvents(ctx, o.ID)
		require.NoError(t, err)
		require.Len(t, events, 2)
		final, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, events[1].To, final.Status)
	})
}

func TestListMerchantOrders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		m := newMerchant(t, s)
		other := newMerchant(t, s)
		p := newProduct(t, s, m.ID, 10)
		base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

		var ids []string
		for i := range 4 {
			in := orderFor(m.ID, p, "buyer_1")
			in.CreatedAt = base.Add(time.Duration(i) * time.Minute)
			o, err := s.CreateOrder(ctx, in)
			require.NoError(t, err)
			ids = append(ids, o.ID)
		}
		otherOrder := orderFor(other.ID, newProduct(t, s, other.ID, 1), "buyer_1")
		_, err := s.CreateOrder(ctx, otherOrder)
		require.NoError(t, err)
		for _, id := range []string{ids[1], ids[3]} {
			_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: id, To: models.StatusAuthorized, Actor: models.ActorSystem})
			require.NoError(t, err)
		}

		tests := []struct {
			name   string
			status models.OrderStatus
			limit  int
			want   []string
		}{
			{"all newest first", "", 0, []string{ids[3], ids[2], ids[1], ids[0]}},
			{"limited", "", 2, []string{ids[3], ids[2]}},
			{"authorized", models.StatusAuthorized, 10, []string{ids[3], ids[1]}},
			{"pending", models.StatusPending, 10, []string{ids[2], ids[0]}},
			{"none in status", models.StatusShipped, 10, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				orders, err := s.ListMerchantOrders(ctx, m.ID, tc.status, tc.limit)
				require.NoError(t, err)
				var got []string
				for _, o := range orders {
					require.Equal(t, m.ID, o.MerchantID)
					got = append(got, o.ID)
				}
				require.Equal(t, tc.want, got)
			})
		}
	})
}

// A status change that carries the next event's sequence number keeps it as
// the order's last, as SaveEventSequence would, and never lowers it: what
// handles the order after its end takes the numbers after it.
func TestApplyStatusChangeKeepsTheEventSequence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		_, err := s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusAuthorized,
			Actor: models.ActorSystem, EventSequence: 3})
		require.NoError(t, err)
		next, err := s.TakeEventSequences(ctx, o.ID, 1)
		require.NoError(t, err)
		require.Equal(t, 4, next)
		_, err = s.ApplyStatusChange(ctx, models.StatusChange{OrderID: o.ID, To: models.StatusRejected,
			Actor: models.ActorSystem, EventSequence: 2})
		require.NoError(t, err)
		next, err = s.TakeEventSequences(ctx, o.ID, 1)
		require.NoError(t, err)
		require.Equal(t, 5, next)
	})
}
