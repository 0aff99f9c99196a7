package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"
)

// migrations holds the versioned schema, one directory per backend. A file
// is never edited once released: a change is a new file with the next
// number (see README, "Migrations").
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// versionTable is where goose records the applied migrations.
const versionTable = "goose_db_version"

// adoptedVersion is the migration that holds the schema AutoMigrate made
// before versioned migrations began; a database made then is recorded at
// this version without running it.
const adoptedVersion = 1

// migrationLockKey is the Postgres advisory lock that serialises migrations
// across processes: two replicas migrating at once would otherwise both see
// a version pending and race to apply it.
const migrationLockKey int64 = 0x636865636b6f7574 // "checkout"

// Migrate applies the pending migrations. It is safe to run again and from
// several processes at once: on Postgres they queue on an advisory lock, on
// SQLite on a lock file next to the database. A database made before
// versioned migrations (its tables there, no version table) is adopted at
// version 1 first.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, nil)
}

// migrate is Migrate with the migrations of fsys (nil: the embedded ones).
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	if err := s.withMigrationLock(ctx, func() error {
		if err := s.adopt(ctx); err != nil {
			return fmt.Errorf("adopt existing schema: %w", err)
		}
		p, err := s.provider(fsys)
		if err != nil {
			return err
		}
		_, err = p.Up(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// CheckSchema fails when the database's schema is older than this code
// needs, naming both versions; a newer schema (migrated for a later release
// still rolling out) is accepted, since migrations only expand what older
// code uses.
func (s *Store) CheckSchema(ctx context.Context) error {
	return s.checkSchema(ctx, nil)
}

func (s *Store) checkSchema(ctx context.Context, fsys fs.FS) error {
	p, err := s.provider(fsys)
	if err != nil {
		return err
	}
	sources := p.ListSources()
	need := sources[len(sources)-1].Version
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have < need {
		return fmt.Errorf("store: database schema is at version %d, this release needs version %d: run `checkout migrate` first", have, need)
	}
	return nil
}

// SchemaVersion is the latest migration applied to the database, 0 when
// none is recorded. It changes nothing.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	if !s.db.WithContext(ctx).Migrator().HasTable(versionTable) {
		return 0, nil
	}
	vs, err := s.versionStore()
	if err != nil {
		return 0, err
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return 0, err
	}
	v, err := vs.GetLatestVersion(ctx, sqlDB)
	if errors.Is(err, database.ErrVersionNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

func (s *Store) dialect() (goose.Dialect, string) {
	if s.postgres {
		return goose.DialectPostgres, "migrations/postgres"
	}
	return goose.DialectSQLite3, "migrations/sqlite"
}

func (s *Store) versionStore() (database.Store, error) {
	d, _ := s.dialect()
	return database.NewStore(d, versionTable)
}

func (s *Store) provider(fsys fs.FS) (*goose.Provider, error) {
	d, dir := s.dialect()
	if fsys == nil {
		sub, err := fs.Sub(migrations, dir)
		if err != nil {
			return nil, err
		}
		fsys = sub
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(d, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// adopt records version 1 as applied on a database whose tables AutoMigrate
// made before versioned migrations began, so that migration is not run on
// it, and brings rows written before then to today's shape. A database with
// a version table, or without the tables, is left to goose.
func (s *Store) adopt(ctx context.Context) error {
	m := s.db.WithContext(ctx).Migrator()
	if m.HasTable(versionTable) || !m.HasTable(&orderRow{}) {
		return nil
	}
	vs, err := s.versionStore()
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("no SQL transaction")
		}
		if err := vs.CreateVersionTable(ctx, sqlTx); err != nil {
			return err
		}
		for _, v := range []int64{0, adoptedVersion} {
			if err := vs.Insert(ctx, sqlTx, database.InsertRequest{Version: v}); err != nil {
				return err
			}
		}
		if err := backfillStripeEvents(tx); err != nil {
			return err
		}
		return moveStockToDefaultVariants(tx)
	})
}

// withMigrationLock runs fn while no other process migrates the database.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) error {
	if !s.postgres {
		return s.withFileLock(fn)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	// A session lock on a connection of its own (released if it dies);
	// goose applies the migrations on other connections of the pool.
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey)
	}()
	return fn()
}

// withFileLock serialises SQLite migrations with an flock on a file next to
// the database; the store's single connection stays free for goose.
func (s *Store) withFileLock(fn func() error) error {
	f, err := os.OpenFile(s.sqlitePath+".migrate-lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open migration lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	return fn()
}
