package api

import (
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/buybutton/checkout/models"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	maxIdempotencyKeyLen = 255
)

// idempotencyKey reads the Idempotency-Key header: 1 to 255 printable ASCII
// characters. ok is false when the header is absent.
func idempotencyKey(c *gin.Context) (key string, ok bool, err error) {
	values := c.Request.Header.Values(headerIdempotencyKey)
	if len(values) == 0 {
		return "", false, nil
	}
	if len(values) > 1 {
		return "", true, models.Invalid(codeInvalidIdempotencyKey, "send a single Idempotency-Key header")
	}
	key = values[0]
	if key == "" {
		return "", false, nil
	}
	if len(key) > maxIdempotencyKeyLen {
		return "", true, models.Invalid(codeInvalidIdempotencyKey, "Idempotency-Key must be at most %d characters", maxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", true, models.Invalid(codeInvalidIdempotencyKey, "Idempotency-Key must be printable ASCII")
		}
	}
	return key, true, nil
}

// requireIdempotencyKey is idempotencyKey for endpoints that cannot be retried safely without one.
func requireIdempotencyKey(c *gin.Context) (string, error) {
	key, ok, err := idempotencyKey(c)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", models.Invalid(codeIdempotencyKeyRequired, "the Idempotency-Key header is required")
	}
	return key, nil
}

// updateID names a workflow update so that a retried request reaches the
// same update (and gets its recorded answer). The action is part of the id
// because one key reused across actions must not return another action's answer.
func updateID(c *gin.Context, action string) (string, error) {
	key, ok, err := idempotencyKey(c)
	if err != nil {
		return "", err
	}
	if !ok {
		return action + ":" + uuid.NewString(), nil
	}
	return action + ":" + key, nil
}
