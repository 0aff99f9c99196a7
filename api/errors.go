package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

// Codes the API itself issues. Clients switch on them, so they never change.
const (
	codeMalformedJSON          = "malformed_json"
	codeUnknownField           = "unknown_field"
	codeBodyTooLarge           = "body_too_large"
	codeUnsupportedMediaType   = "unsupported_media_type"
	codeIdempotencyKeyRequired = "idempotency_key_required"
	codeInvalidIdempotencyKey  = "invalid_idempotency_key"
	codeIdempotencyKeyReused   = "idempotency_key_reused"
	codeMethodNotAllowed       = "method_not_allowed"
	codeRouteNotFound          = "route_not_found"
	codeOrderClosed            = "order_closed"
	codeProductUnavailable     = "product_unavailable"
	codeNotReady               = "not_ready"
)

// statusByKind is the one mapping from error kind to HTTP status.
var statusByKind = map[models.Kind]int{
	models.KindInvalid:         http.StatusBadRequest,
	models.KindNotFound:        http.StatusNotFound,
	models.KindConflict:        http.StatusConflict,
	models.KindForbidden:       http.StatusForbidden,
	models.KindUnauthorized:    http.StatusUnauthorized,
	models.KindPaymentDeclined: http.StatusPaymentRequired,
	models.KindSoldOut:         http.StatusConflict,
	models.KindUnavailable:     http.StatusServiceUnavailable,
	models.KindInternal:        http.StatusInternalServerError,
}

// statusByCode refines the kind where HTTP has a more precise answer than the
// kind alone.
var statusByCode = map[string]int{
	codeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	codeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeRateLimited:          http.StatusTooManyRequests,
}

// unprocessable marks an invalid error raised after the request was read and
// understood (the body was well-formed but cannot be acted on): 422, not 400.
type unprocessable struct{ err *models.Error }

func (u unprocessable) Error() string { return u.err.Error() }
func (u unprocessable) Unwrap() error { return u.err }

// asUnprocessable wraps a domain error so it answers 422.
func asUnprocessable(e *models.Error) error { return unprocessable{e} }

// httpStatus maps any error to its status. Errors without a kind are bugs or
// unexpected failures: 500.
func httpStatus(err error) int {
	var u unprocessable
	if errors.As(err, &u) {
		return http.StatusUnprocessableEntity
	}
	var e *models.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	if s, ok := statusByKind[e.Kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the single shape of every error answer.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// publicError is what a client may see of err. Internal failures get a
// generic message: their details go to the log only.
func publicError(err error) (int, errorBody) {
	status := httpStatus(err)
	var e *models.Error
	if status == http.StatusInternalServerError || !errors.As(err, &e) {
		return http.StatusInternalServerError, errorBody{Code: "internal", Message: "internal error"}
	}
	code := e.Code
	if code == "" {
		code = string(e.Kind)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	return status, errorBody{Code: code, Message: msg}
}

// writeError answers with err in the error shape and aborts the chain.
func writeError(c *gin.Context, err error) {
	status, body := publicError(err)
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	if status >= http.StatusInternalServerError {
		loggerFrom(c).ErrorContext(c.Request.Context(), "request failed",
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	c.AbortWithStatusJSON(status, gin.H{"error": body})
}

// fromTemporal turns an error from the Temporal client into a domain error.
// Application errors made by failures.ToTemporal keep their kind; a workflow
// that no longer runs is a conflict, since the order itself exists.
func fromTemporal(err error) error {
	if err == nil {
		return nil
	}
	if d := failures.FromTemporal(err); d != err {
		return d
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// Closed, or closing while the update waited: the same answer.
		if nf.Message == "workflow execution already completed" || nf.Message == "workflow update was aborted by closing workflow" {
			return &models.Error{Kind: models.KindConflict, Code: codeOrderClosed, Message: "order is closed", Err: err}
		}
		return &models.Error{Kind: models.KindNotFound, Code: "not_found", Message: "order not found", Err: err}
	}
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	if errors.As(err, &timeout) || errors.As(err, &unavailable) || errors.As(err, &deadline) ||
		errors.As(err, &exhausted) || errors.Is(err, context.DeadlineExceeded) {
		return &models.Error{Kind: models.KindUnavailable, Code: "unavailable",
			Message: "the order service is busy, try again", Err: err}
	}
	return err
}
