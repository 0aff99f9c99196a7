package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

const testLease = 30 * time.Second

// claimAt claims evt_1 at a time, with testLease.
func claimAt(t *testing.T, s *store.Store, at time.Time) store.StripeEventClaim {
	t.Helper()
	c, err := s.ClaimStripeEvent(ctxT(t), "evt_1", "payment_intent.succeeded", "ord_1", at, testLease)
	require.NoError(t, err)
	return c
}

func TestStripeEventClaimStates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		t0 := time.Now()

		require.Equal(t, store.StripeEventClaimed, claimAt(t, s, t0), "fresh")
		require.Equal(t, store.StripeEventBusy, claimAt(t, s, t0), "same instant")
		require.Equal(t, store.StripeEventBusy, claimAt(t, s, t0.Add(testLease-time.Millisecond)), "within the lease")

		require.NoError(t, s.MarkStripeEventHandled(ctx, "evt_1", t0.Add(time.Second)))
		require.Equal(t, store.StripeEventHandled, claimAt(t, s, t0.Add(time.Second)), "duplicate")
		require.Equal(t, store.StripeEventHandled, claimAt(t, s, t0.Add(100*testLease)),
			"a handled event is never taken over, however old")

		require.NoError(t, s.ReleaseStripeEvent(ctx, "evt_1"))
		require.Equal(t, store.StripeEventHandled, claimAt(t, s, t0.Add(2*time.Second)), "a handled event is not released")
	})
}

func TestStripeEventReleasedIsClaimedAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		t0 := time.Now()
		require.Equal(t, store.StripeEventClaimed, claimAt(t, s, t0))
		require.NoError(t, s.ReleaseStripeEvent(ctxT(t), "evt_1"))
		require.Equal(t, store.StripeEventClaimed, claimAt(t, s, t0.Add(time.Second)),
			"a released event is acted on when redelivered, without waiting for the lease")
	})
}

// A claim never marked handled (its process died) is taken over once the
// lease has passed; the takeover is a fresh claim with a lease of its own.
func TestStripeEventStaleClaimIsTakenOver(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		t0 := time.Now()
		require.Equal(t, store.StripeEventClaimed, claimAt(t, s, t0))

		t1 := t0.Add(testLease + time.Second)
		require.Equal(t, store.StripeEventClaimed, claimAt(t, s, t1), "stale claim taken over")
		require.Equal(t, store.StripeEventBusy, claimAt(t, s, t1.Add(testLease/2)), "the takeover holds its own lease")

		require.NoError(t, s.MarkStripeEventHandled(ctxT(t), "evt_1", t1.Add(time.Second)))
		require.Equal(t, store.StripeEventHandled, claimAt(t, s, t1.Add(3*testLease)))
	})
}

// Deliveries racing for a new event, or for a stale claim: exactly one acts.
func TestStripeEventConcurrentClaimsOneWins(t *testing.T) {
	const n = 8
	race := func(t *testing.T, s *store.Store, at time.Time) {
		t.Helper()
		got := make([]store.StripeEventClaim, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got[i], errs[i] = s.ClaimStripeEvent(ctxT(t), "evt_1", "payment_intent.succeeded", "ord_1", at, testLease)
			})
		}
		wg.Wait()
		won := 0
		for i := range n {
			require.NoError(t, errs[i])
			switch got[i] {
			case store.StripeEventClaimed:
				won++
			case store.StripeEventBusy:
			default:
				t.Fatalf("claim %d: %v", i, got[i])
			}
		}
		require.Equal(t, 1, won, "claims: %v", got)
	}
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		t0 := time.Now()
		t.Run("fresh", func(t *testing.T) { race(t, s, t0) })
		t.Run("stale", func(t *testing.T) { race(t, s, t0.Add(2*testLease)) })
	})
}

// Events recorded before claims had two phases were only kept once acted on
// (or lost to a crash nothing can detect now): when the database is adopted
// by versioned migrations they stay duplicates rather than blocking Stripe
// with "in progress" for ever.
func TestStripeEventsRecordedBeforeTheUpgradeAreHandled(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := ctxT(t)
			s := openUnmigrated(t, backend)
			require.NoError(t, store.AutoMigrateLegacy(ctx, s))
			old := time.Now().Add(-time.Hour).UTC()
			require.NoError(t, s.DB().WithContext(ctx).Exec("INSERT INTO stripe_events (id, type, order_id, created_at) VALUES (?, ?, ?, ?)",
				"evt_1", "payment_intent.succeeded", "ord_1", old).Error)

			require.NoError(t, s.Migrate(context.Background()))
			require.Equal(t, store.StripeEventHandled, claimAt(t, s, time.Now()))
		})
	}
}
