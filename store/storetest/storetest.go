// Package storetest opens a fresh, migrated store for tests of any package:
// a Postgres database created for the test and dropped after it, or an SQLite
// file in the test's temporary directory.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/store"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Backend names accepted by Open.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Backends lists every backend, for running a test against each.
var Backends = []string{Postgres, SQLite}

// PostgresURLEnv overrides the server that test databases are created on. Its
// database is only used to run CREATE/DROP DATABASE.
const PostgresURLEnv = "TEST_POSTGRES_URL"

// adminURLs are tried in order: the shared server trusts either user.
var adminURLs = []string{
	"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
	"postgres://root@127.0.0.1:5432/test?sslmode=disable",
}

// Open returns a migrated store on a database of its own, removed when the
// test ends. backend is Postgres or SQLite. If Postgres is unreachable the
// test is skipped, or fails when CI=true.
func Open(t testing.TB, backend string) *store.Store {
	t.Helper()
	return OpenWithRing(t, backend, Ring(t))
}

// Ring returns a fresh key ring for a test.
func Ring(t testing.TB) *keyring.Ring {
	t.Helper()
	spec, err := keyring.Generate()
	if err != nil {
		t.Fatalf("storetest: generate key ring: %v", err)
	}
	ring, err := keyring.Parse(spec)
	if err != nil {
		t.Fatalf("storetest: parse key ring: %v", err)
	}
	return ring
}

// OpenWithRing is Open with a given key ring, for tests that read encrypted
// data back or share the ring with other parts.
func OpenWithRing(t testing.TB, backend string, ring *keyring.Ring) *store.Store {
	t.Helper()
	var url string
	switch backend {
	case Postgres:
		url = NewPostgresDatabase(t)
	case SQLite:
		url = "sqlite://" + filepath.Join(t.TempDir(), "checkout.db")
	default:
		t.Fatalf("storetest: unknown backend %q (want %q or %q)", backend, Postgres, SQLite)
	}
	return OpenURL(t, url, ring)
}

// OpenURL opens and migrates a store on a database the test already has
// (from NewPostgresDatabase), closed when the test ends. Two stores opened on
// one URL see the same rows, as an api and a worker process do.
func OpenURL(t testing.TB, url string, ring *keyring.Ring) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, url, ring)
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	// Registered after the database drop, so it runs before it.
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate store: %v", err)
	}
	return s
}

// ForEach runs fn as a subtest per backend, each with its own fresh store.
func ForEach(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) { fn(t, Open(t, b)) })
	}
}

// NewPostgresDatabase creates an empty database checkout_test_<random>,
// drops it when the test ends and returns its URL, for tests that open the
// store themselves (several processes, migrations).
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	admin, adminURL := connectAdmin(t)
	name := "checkout_test_" + randomSuffix()
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		closeGorm(admin)
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer closeGorm(admin)
		// FORCE ends connections a test leaked, so the drop cannot hang.
		if err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	return replaceDatabase(adminURL, name)
}

func connectAdmin(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	urls := adminURLs
	if u := os.Getenv(PostgresURLEnv); u != "" {
		urls = []string{u}
	}
	var errs []string
	for _, u := range urls {
		db, err := gorm.Open(postgres.Open(u), &gorm.Config{Logger: logger.Discard})
		if err == nil {
			if sqlDB, derr := db.DB(); derr == nil {
				sqlDB.SetMaxOpenConns(1)
			}
			return db, u
		}
		errs = append(errs, err.Error())
	}
	msg := "storetest: POSTGRES IS UNREACHABLE, postgres tests NOT RUN: " + strings.Join(errs, "; ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil, ""
}

// replaceDatabase swaps the database name in a postgres:// URL.
func replaceDatabase(url, name string) string {
	rest, query, _ := strings.Cut(url, "?")
	scheme, hostPath, _ := strings.Cut(rest, "://")
	host, _, _ := strings.Cut(hostPath, "/")
	out := scheme + "://" + host + "/" + name
	if query != "" {
		out += "?" + query
	}
	return out
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
