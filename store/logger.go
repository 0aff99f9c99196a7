package store

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm/logger"
)

// slowQueryThreshold is when a query is worth a warning.
const slowQueryThreshold = 500 * time.Millisecond

// queryLogger reports slow queries only. Errors are returned to the caller,
// which decides whether they matter; gorm printing them too would log every
// expected not-found and conflict.
type queryLogger struct{}

func newLogger() logger.Interface { return queryLogger{} }

func (l queryLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (queryLogger) Info(context.Context, string, ...any)       {}
func (queryLogger) Warn(context.Context, string, ...any)       {}
func (queryLogger) Error(context.Context, string, ...any)      {}

func (queryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	if elapsed := time.Since(begin); elapsed >= slowQueryThreshold {
		// The statement is logged with its placeholders' values, which may be
		// personal data, so only its length and the row count are reported.
		sql, rows := fc()
		slog.WarnContext(ctx, "slow query", "elapsed", elapsed, "rows", rows, "sql_bytes", len(sql))
	}
}
