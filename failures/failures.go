// Package failures carries domain errors (models.Error) across Temporal:
// activities and workflow updates turn them into typed application errors, and
// the API turns those back into domain errors it can map to HTTP.
package failures

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/models"
)

// retryable lists the kinds worth retrying; every other kind is final.
var retryable = map[models.Kind]bool{models.KindUnavailable: true, models.KindInternal: true}

// ToTemporal wraps a domain error as an application error whose type is the
// error kind and whose details hold the code. Kinds that a retry cannot fix
// (declined, invalid, sold out…) are marked non-retryable. Errors without a
// kind are returned unchanged, so Temporal retries them.
func ToTemporal(err error) error {
	var e *models.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	if retryable[e.Kind] {
		return temporal.NewApplicationErrorWithCause(e.Message, string(e.Kind), e.Err, e.Code)
	}
	return temporal.NewNonRetryableApplicationError(e.Message, string(e.Kind), e.Err, e.Code)
}

// Final returns err's domain error when it is one a retry cannot fix.
func Final(err error) (*models.Error, bool) {
	var e *models.Error
	if errors.As(err, &e) && !retryable[e.Kind] {
		return e, true
	}
	return nil, false
}

// FromTemporal finds an application error made by ToTemporal anywhere in
// err's chain and returns it as a domain error. Anything else is returned
// unchanged.
func FromTemporal(err error) error {
	var app *temporal.ApplicationError
	if err == nil || !errors.As(err, &app) {
		return err
	}
	kind := models.Kind(app.Type())
	switch kind {
	case models.KindInvalid, models.KindNotFound, models.KindConflict, models.KindForbidden, models.KindUnauthorized,
		models.KindPaymentDeclined, models.KindSoldOut, models.KindUnavailable, models.KindInternal:
	default:
		return err
	}
	var code string
	if app.HasDetails() {
		_ = app.Details(&code)
	}
	if code == "" {
		code = string(kind)
	}
	return &models.Error{Kind: kind, Code: code, Message: app.Message(), Err: err}
}
