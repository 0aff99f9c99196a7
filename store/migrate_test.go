package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
	"github.com/stretchr/testify/require"
)

// latestVersion is the newest migration in store/migrations.
const latestVersion int64 = 2

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

// openUnmigrated opens a store on a fresh, empty database of backend.
func openUnmigrated(t *testing.T, backend string) *store.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "checkout.db")
	if backend == storetest.Postgres {
		url = storetest.NewPostgresDatabase(t)
	}
	s, err := store.Open(ctxT(t), url, storetest.Ring(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A column or index on a row struct that no migration creates is caught
// here: after the migrations, AutoMigrate of the row structs has nothing
// left to do.
func TestMigrationsMatchRowStructs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ddl, err := store.SchemaDrift(ctxT(t), s)
		require.NoError(t, err)
		require.Empty(t, ddl, "row structs declare schema no migration creates; add a migration")

		// The check sees a field the migrations lack.
		ddl, err = store.SchemaDrift(ctxT(t), s, &orderWithNewColumn{})
		require.NoError(t, err)
		require.NotEmpty(t, ddl)
		require.Contains(t, strings.Join(ddl, "\n"), "gift_note")
	})
}

type orderWithNewColumn struct {
	ID       string `gorm:"primaryKey;size:64"`
	GiftNote string `gorm:"size:200;not null;default:''"`
}

func (orderWithNewColumn) TableName() string { return "orders" }

// A database the store made before versioned migrations, with a row in it,
// is adopted: version 1 is recorded without running, the row stays, and the
// schema is what the migrations make.
func TestMigrateAdoptsAutoMigratedDatabase(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := ctxT(t)
			s := openUnmigrated(t, backend)
			require.NoError(t, store.AutoMigrateLegacy(ctx, s))
			o := newOrder(t, s)
			v, err := s.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Zero(t, v)
			require.Error(t, s.CheckSchema(ctx), "an unadopted database is older than the code")

			require.NoError(t, s.Migrate(ctx))
			v, err = s.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, latestVersion, v)
			got, err := s.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, o, got)
			require.NoError(t, s.CheckSchema(ctx))
			ddl, err := store.SchemaDrift(ctx, s)
			require.NoError(t, err)
			require.Empty(t, ddl)
			require.NoError(t, s.Migrate(ctx), "a second run finds nothing to do")
		})
	}
}

// api and worker refuse a schema older than the code needs, naming both
// versions and the command to run, and accept the same or a newer one.
func TestCheckSchema(t *testing.T) {
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := ctxT(t)
			s := openUnmigrated(t, backend)
			err := s.CheckSchema(ctx)
			require.ErrorContains(t, err, "version 0")
			require.ErrorContains(t, err, fmt.Sprintf("needs version %d", latestVersion))
			require.ErrorContains(t, err, "checkout migrate")
			v, verr := s.SchemaVersion(ctx)
			require.NoError(t, verr)
			require.Zero(t, v, "checking changes nothing")

			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.CheckSchema(ctx))

			// Code of a later release, needing one version more, refuses
			// this database until that migration is applied.
			dir := "migrations/" + map[string]string{storetest.Postgres: "postgres", storetest.SQLite: "sqlite"}[backend]
			next := fstest.MapFS{}
			files, err := fs.Glob(store.MigrationFiles, dir+"/*.sql")
			require.NoError(t, err)
			for _, f := range files {
				data, err := fs.ReadFile(store.MigrationFiles, f)
				require.NoError(t, err)
				next[path.Base(f)] = &fstest.MapFile{Data: data}
			}
			later := fmt.Sprintf("%05d_example.sql", latestVersion+1)
			next[later] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE example_later (id integer PRIMARY KEY);\n-- +goose Down\nDROP TABLE example_later;\n")}
			err = store.CheckSchemaFS(ctx, s, next)
			require.ErrorContains(t, err, fmt.Sprintf("schema is at version %d, this release needs version %d", latestVersion, latestVersion+1))
			require.NoError(t, store.MigrateFS(ctx, s, next))
			require.NoError(t, store.CheckSchemaFS(ctx, s, next))

			// This release's code runs on the newer schema.
			require.NoError(t, s.CheckSchema(ctx))
			require.NoError(t, s.Migrate(ctx))
		})
	}
}
