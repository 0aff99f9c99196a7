package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
)

// defaultRequestTimeout matches the server's WriteTimeout: past it the client
// cannot get the answer anyway.
const defaultRequestTimeout = 30 * time.Second

// requestTimeout is long enough for the slowest handler, a purchase that waits
// PayWait for the update and then PayWait again for a closed workflow's answer.
func requestTimeout(payWait time.Duration) time.Duration {
	return max(defaultRequestTimeout, 2*payWait+10*time.Second)
}

// requestDeadline bounds every request's context, so a hung database or
// Temporal call cannot hold a handler (and its connection) for ever: every
// outbound call of a handler takes this context.
func requestDeadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
