package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// TestRolloutSettingsVersions: versions only grow, two saves over the same
// version cannot both win, and the history names who saved what.
func TestRolloutSettingsVersions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		_, err := s.RolloutSettings(ctx)
		require.ErrorIs(t, err, models.ErrNotFound)

		v1, err := s.SaveRolloutSettings(ctx, 0, []byte(`{"percent":5}`), "admin:ops-1")
		require.NoError(t, err)
		require.Equal(t, int64(1), v1.Version)

		// Two replicas save over version 1 at once: exactly one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = s.SaveRolloutSettings(ctx, 1, []byte(`{"percent":10}`), "admin:ops-2")
			}(i)
		}
		wg.Wait()
		var conflicts int
		for _, err := range errs {
			if errors.Is(err, models.ErrConflict) {
				conflicts++
			} else {
				require.NoError(t, err)
			}
		}
		require.Equal(t, 1, conflicts, "one of two saves over the same version must be refused")

		latest, err := s.RolloutSettings(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), latest.Version)
		require.JSONEq(t, `{"percent":10}`, string(latest.Settings))

		hist, err := s.RolloutHistory(ctx, 10)
		require.NoError(t, err)
		require.Len(t, hist, 2)
		require.Equal(t, []int64{2, 1}, []int64{hist[0].Version, hist[1].Version})
		require.Equal(t, "admin:ops-1", hist[1].Actor)
		require.False(t, hist[1].CreatedAt.IsZero())
	})
}
