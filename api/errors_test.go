package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
)

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"invalid", models.Invalid("invalid_quantity", "q"), 400, "invalid_quantity"},
		{"not found", models.NotFound("order"), 404, "not_found"},
		{"conflict", models.Conflict("invalid_transition", "t"), 409, "invalid_transition"},
		{"forbidden", models.Errorf(models.KindForbidden, "forbidden", "f"), 403, "forbidden"},
		{"unauthorized", models.Errorf(models.KindUnauthorized, "unauthorized", "u"), 401, "unauthorized"},
		{"declined", models.Errorf(models.KindPaymentDeclined, "card_declined", "d"), 402, "card_declined"},
		{"sold out", models.Errorf(models.KindSoldOut, "sold_out", "s"), 409, "sold_out"},
		{"unavailable", models.Errorf(models.KindUnavailable, "unavailable", "u"), 503, "unavailable"},
		{"internal hides its message", models.Errorf(models.KindInternal, "db_broken", "password=hunter2"), 500, "internal"},
		{"unknown kind", models.Errorf(models.Kind("weird"), "weird", "w"), 500, "internal"},
		{"plain error", errors.New("password=hunter2"), 500, "internal"},
		{"wrapped domain error", fmt.Errorf("context: %w", models.NotFound("product")), 404, "not_found"},
		{"code without kind message", &models.Error{Kind: models.KindInvalid}, 400, "invalid"},
		{"body too large", models.Invalid(codeBodyTooLarge, "b"), 413, codeBodyTooLarge},
		{"media type", models.Invalid(codeUnsupportedMediaType, "m"), 415, codeUnsupportedMediaType},
		{"key reused", models.Invalid(codeIdempotencyKeyReused, "k"), 422, codeIdempotencyKeyReused},
		{"method", models.Invalid(codeMethodNotAllowed, "m"), 405, codeMethodNotAllowed},
		{"unprocessable", asUnprocessable(models.Invalid("merchant_inactive", "m")), 422, "merchant_inactive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := publicError(tc.err)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, body.Code)
			require.NotEmpty(t, body.Message)
			require.NotContains(t, body.Message, "hunter2")
		})
	}
}

// Every kind has a status: a kind added to models without one here would
// silently answer 500.
func TestEveryKindHasAStatus(t *testing.T) {
	for _, k := range []models.Kind{models.KindInvalid, models.KindNotFound, models.KindConflict, models.KindForbidden,
		models.KindUnauthorized, models.KindPaymentDeclined, models.KindSoldOut, models.KindUnavailable, models.KindInternal} {
		require.Contains(t, statusByKind, k)
	}
}

func TestFromTemporal(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"application error keeps its kind", failures.ToTemporal(models.Conflict("invalid_transition", "no")), 409, "invalid_transition"},
		{"declined", failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "card_declined", "no")), 402, "card_declined"},
		{"workflow not found", serviceerror.NewNotFound("workflow not found for ID"), 404, "not_found"},
		{"workflow completed", serviceerror.NewNotFound("workflow execution already completed"), 409, codeOrderClosed},
		{"workflow closing while the update waited", serviceerror.NewNotFound("workflow update was aborted by closing workflow"), 409, codeOrderClosed},
		{"update timed out", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded), 503, "unavailable"},
		{"server unavailable", serviceerror.NewUnavailable("down"), 503, "unavailable"},
		{"resource exhausted", serviceerror.NewResourceExhausted(0, "slow down"), 503, "unavailable"},
		{"anything else", errors.New("x"), 500, "internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := publicError(fromTemporal(tc.err))
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, body.Code)
		})
	}
	require.NoError(t, fromTemporal(nil))
}

func TestUnprocessableIsStillAnInvalidError(t *testing.T) {
	err := asUnprocessable(models.Invalid("x", "y"))
	require.ErrorIs(t, err, models.ErrInvalid)
	require.Equal(t, http.StatusUnprocessableEntity, httpStatus(err))
}
