// Package store is the checkout's persistence: gorm repositories over
// Postgres in production and an embedded SQLite file by default. It is the
// read model of the purchase workflows and the home of stock, merchants,
// products, the order audit log and idempotency keys.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/buybutton/checkout/keyring"
)

// DefaultSQLitePath is where the embedded database lives when no
// DATABASE_URL is given, relative to the working directory.
const DefaultSQLitePath = "data/checkout.db"

// sqliteOptions make the embedded database usable by concurrent writers:
// WAL lets reads proceed during a write, busy_timeout waits instead of failing
// with SQLITE_BUSY, and foreign keys are off by default in SQLite. Immediate
// transactions take the write lock at BEGIN: a deferred one that reads and
// then writes fails at once with SQLITE_BUSY when another process (a second
// replica, a migration) wrote in between, without waiting on busy_timeout.
const sqliteOptions = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// Postgres pool sizing: enough for a worker and an API process sharing a
// small server, and idle connections are dropped so a quiet service does not
// pin server slots.
const (
	pgMaxOpenConns    = 20
	pgMaxIdleConns    = 5
	pgConnMaxIdleTime = 5 * time.Minute
	pgConnMaxLifetime = 30 * time.Minute
)

// Store is the set of repositories over one database.
type Store struct {
	db       *gorm.DB
	postgres bool
	// sqlitePath is the database file on SQLite ("" on Postgres).
	sqlitePath string
	addresses  addressCodec
	// ring encrypts personal data at rest (AES-256-GCM with key ids).
	ring *keyring.Ring
}

// Open connects to databaseURL without migrating it:
//   - "" → SQLite at DefaultSQLitePath (its directory is created),
//   - "postgres://…" or "postgresql://…" → Postgres,
//   - "sqlite://<path>" or "file:<path>" → SQLite at path.
func Open(ctx context.Context, databaseURL string, ring *keyring.Ring) (*Store, error) {
	if ring == nil {
		return nil, errors.New("store: a key ring is required to encrypt personal data")
	}
	var (
		dialector gorm.Dialector
		isPG      bool
		path      string
	)
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		dialector, isPG = postgres.Open(databaseURL), true
	default:
		var err error
		if path, err = sqlitePath(databaseURL); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: create database directory: %w", err)
		}
		dialector = sqlite.Open(sqliteDSN(path))
	}

	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 newLogger(),
		NowFunc:                now,
		SkipDefaultTransaction: true, // every multi-statement write opens its own transaction
		TranslateError:         true,
		DisableAutomaticPing:   true, // Ping below honours ctx
	})
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if isPG {
		sqlDB.SetMaxOpenConns(pgMaxOpenConns)
		sqlDB.SetMaxIdleConns(pgMaxIdleConns)
		sqlDB.SetConnMaxIdleTime(pgConnMaxIdleTime)
		sqlDB.SetConnMaxLifetime(pgConnMaxLifetime)
	} else {
		// One connection serialises writers inside the process, so concurrent
		// transactions queue in database/sql instead of failing with
		// SQLITE_BUSY, and the pragmas apply to the only connection there is.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxIdleTime(0)
		sqlDB.SetConnMaxLifetime(0)
	}
	s := &Store{db: db, postgres: isPG, sqlitePath: path, ring: ring, addresses: addressCodec{ring: ring}}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePath extracts the file path from an SQLite database URL.
func sqlitePath(databaseURL string) (string, error) {
	var path string
	switch {
	case databaseURL == "":
		path = DefaultSQLitePath
	case strings.HasPrefix(databaseURL, "sqlite://"):
		path = strings.TrimPrefix(databaseURL, "sqlite://")
	case strings.HasPrefix(databaseURL, "file:"):
		path = strings.TrimPrefix(databaseURL, "file:")
	default:
		return "", fmt.Errorf("store: unsupported database URL scheme in %q (want postgres://, sqlite:// or file:)", redact(databaseURL))
	}
	// Options are ours to choose; a query string on the URL is not honoured.
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "", errors.New("store: empty SQLite path")
	}
	return path, nil
}

func sqliteDSN(path string) string { return "file:" + path + "?" + sqliteOptions }

// redact drops everything before the host so credentials never reach logs.
func redact(u string) string {
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}

// now is the store's clock: UTC and microsecond precision, because Postgres
// keeps microseconds and a value must read back equal to what was written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// DB exposes the gorm handle for health checks and tests; repositories are
// the way to read and write rows.
func (s *Store) DB() *gorm.DB { return s.db }

// Dialect names the backend: "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.db.Dialector.Name() }
