package store

import (
	"context"
	"io/fs"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// AutoMigrateLegacy makes the tables the way the store did before versioned
// migrations (AutoMigrate of every row struct), as the fixture for adoption.
func AutoMigrateLegacy(ctx context.Context, s *Store) error {
	return s.db.WithContext(ctx).AutoMigrate(allRows()...)
}

// MigrateFS is Migrate with the migrations of fsys instead of the embedded ones.
func MigrateFS(ctx context.Context, s *Store, fsys fs.FS) error { return s.migrate(ctx, fsys) }

// CheckSchemaFS is CheckSchema against the migrations of fsys.
func CheckSchemaFS(ctx context.Context, s *Store, fsys fs.FS) error { return s.checkSchema(ctx, fsys) }

// SchemaDrift returns the DDL AutoMigrate of rows (every row struct when
// none are given) would run on the database: none when the migrations
// create exactly what the row structs declare. Nothing is changed.
func SchemaDrift(ctx context.Context, s *Store, rows ...any) ([]string, error) {
	if len(rows) == 0 {
		rows = append(allRows(), laterRows()...)
	}
	rec := &ddlRecorder{Interface: s.db.Logger}
	errRollback := errDrift{}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Session(&gorm.Session{Logger: rec}).AutoMigrate(rows...); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		return nil, err
	}
	return rec.ddl, nil
}

type errDrift struct{}

func (errDrift) Error() string { return "rolled back" }

// ddlRecorder keeps the schema-changing statements that pass through it.
type ddlRecorder struct {
	logger.Interface
	ddl []string
}

func (r *ddlRecorder) LogMode(logger.LogLevel) logger.Interface { return r }

func (r *ddlRecorder) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	head := strings.ToUpper(strings.TrimSpace(sql))
	for _, verb := range []string{"CREATE ", "ALTER ", "DROP "} {
		if strings.HasPrefix(head, verb) {
			r.ddl = append(r.ddl, sql)
		}
	}
}

// MigrationFiles are the embedded migrations.
var MigrationFiles = migrations

// ExecSQL runs a statement on the store's database, for tests that set a
// row up as time would have left it.
func ExecSQL(ctx context.Context, s *Store, q string, args ...any) error {
	return s.db.WithContext(ctx).Exec(q, args...).Error
}
