package store

import (
	"errors"
	"fmt"

	"github.com/buybutton/checkout/models"
	"gorm.io/gorm"
)

// dbError is the one place database errors become domain errors: a missing
// row is a not-found of the named thing, anything else keeps its cause and
// says which operation failed (callers treat those as retryable).
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
	return fmt.Errorf("store: %s: %w", op, err)
}
