package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

func TestMigrateTwice(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := ctxT(t)
		o := newOrder(t, s)
		require.NoError(t, s.Migrate(ctx), "storetest.Open already migrated once")
		got, err := s.Order(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, o, got, "rows survive a re-run")
	})
}

// Two processes starting together both migrate; neither may fail.
func TestMigrateConcurrently(t *testing.T) {
	urls := map[string]func(t *testing.T) string{
		storetest.Postgres: func(t *testing.T) string { return storetest.NewPostgresDatabase(t) },
		storetest.SQLite:   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "shared.db") },
	}
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			url := urls[backend](t)
			ctx := ctxT(t)
			var stores []*store.Store
			for range 2 {
				s, err := store.Open(ctx, url, storetest.Ring(t))
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				stores = append(stores, s)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(stores))
			for i, s := range stores {
				wg.Go(func() { errs[i] = s.Migrate(ctx) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			newOrder(t, stores[0])
			require.NoError(t, stores[1].Migrate(context.Background()))
		})
	}
}
