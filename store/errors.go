package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/buybutton/checkout/models"
	"gorm.io/gorm"
)

// CodeUnavailable is the code of every error that means "the database cannot
// be reached right now": the API answers it 503 with Retry-After, and
// Temporal retries the activity that met it.
const CodeUnavailable = "store_unavailable"

// dbError is the one place database errors become domain errors: a missing
// row is a not-found of the named thing, a database that cannot be reached
// is unavailable (retryable, 503), anything else keeps its cause and says
// which operation failed (callers treat those as retryable).
func dbError(op, what string, err error) error {
	if err == nil {
		return nil
	}
	var domain *models.Error
	if errors.As(err, &domain) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.NotFound(what)
	}
	wrapped := fmt.Errorf("store: %s: %w", op, err)
	if unreachable(err) {
		e := models.Errorf(models.KindUnavailable, CodeUnavailable, "the database is unavailable; try again shortly")
		e.Err = wrapped
		return e
	}
	return wrapped
}

// unreachable reports whether err says the database could not be reached or
// dropped the connection, as opposed to refusing the statement.
func unreachable(err error) bool {
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
		pgErr   *pgconn.PgError
	)
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &pgErr):
		// Class 08 is "connection exception"; 57P0x the server shutting
		// down or starting; 53300 too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P0") || pgErr.Code == "53300"
	}
	// pgx reports a connection closed mid-query as a plain error.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "database is locked")
}
