package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestClaimIdempotencyKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		first, created, err := s.ClaimIdempotencyKey(ctx, "buyer:b1", "key-1", "hash-a", "ord_1")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, "ord_1", first.OrderID)
		require.False(t, first.CreatedAt.IsZero())

		again, created, err := s.ClaimIdempotencyKey(ctx, "buyer:b1", "key-1", "hash-b", "ord_2")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, again, "the first record wins, whatever the retry says")

		otherScope, created, err := s.ClaimIdempotencyKey(ctx, "buyer:b2", "key-1", "hash-c", "ord_3")
		require.NoError(t, err)
		require.True(t, created, "keys of different scopes are independent")
		require.Equal(t, "ord_3", otherScope.OrderID)
	})
}

func TestClaimIdempotencyKeyConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		const claims = 10
		type result struct {
			rec     store.IdempotencyRecord
			created bool
			err     error
		}
		results := make([]result, claims)
		var wg sync.WaitGroup
		for i := range claims {
			wg.Go(func() {
				r, c, err := s.ClaimIdempotencyKey(ctx, "buyer:b1", "race", fmt.Sprint("hash-", i), fmt.Sprint("ord_", i))
				results[i] = result{r, c, err}
			})
		}
		wg.Wait()
		var created int
		for _, r := range results {
			require.NoError(t, r.err)
			if r.created {
				created++
			}
			require.Equal(t, results[0].rec, r.rec, "every claim sees the one record")
		}
		require.Equal(t, 1, created)
	})
}
