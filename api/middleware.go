package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

const (
	headerRequestID = "X-Request-Id"
	ctxRequestID    = "api.request_id"
	ctxLogger       = "api.logger"
	ctxBaseLogger   = "api.base_logger" // the request's logger before it learns its order
)

// requestID takes the client's X-Request-Id when it is safe to log and echo,
// otherwise makes one, so a support request can be traced through the logs.
func requestID(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(headerRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(ctxRequestID, id)
		logger := base.With(slog.String("request_id", id))
		c.Set(ctxBaseLogger, logger)
		c.Set(ctxLogger, logger)
		c.Header(headerRequestID, id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// loggerFrom is the request's logger (carrying its request id).
func loggerFrom(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		if logger, ok := l.(*slog.Logger); ok {
			return logger
		}
	}
	return slog.Default()
}

// logOrder makes every later line of the request, the access log's
// included, carry the order and its workflow, so an operator can go from a
// log line to the workflow in Temporal UI. Called again (the purchase learns
// its real order id late) it replaces the fields rather than repeating them.
func logOrder(c *gin.Context, orderID string) {
	base := slog.Default()
	if l, ok := c.Get(ctxBaseLogger); ok {
		if logger, ok := l.(*slog.Logger); ok {
			base = logger
		}
	}
	c.Set(ctxLogger, base.With(slog.String("order_id", orderID), slog.String("workflow_id", workflows.WorkflowID(orderID))))
}

// orderRoutes are the routes whose :id is an order id.
var orderRoutes = []string{"/v1/orders/:id", "/v1/merchant/orders/:id"}

// logRouteOrder applies logOrder for routes about one order. Only a
// well-formed id is logged: the path is client text.
func logRouteOrder(c *gin.Context) {
	route := c.FullPath()
	for _, prefix := range orderRoutes {
		if route == prefix || strings.HasPrefix(route, prefix+"/") {
			if id := c.Param("id"); models.ValidID(id) {
				logOrder(c, id)
			}
			return
		}
	}
}

// accessLog writes one JSON line per request. It logs the route template, not
// the raw path or query, so personal data stays out of the logs; the order a
// route is about is logged as order_id and workflow_id.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		logRouteOrder(c)
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		loggerFrom(c).LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", routeLabel(c)),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		)
	}
}

// routeLabel is the matched route template, bounded for logs and metrics.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recovery turns a panic into a JSON 500 and a logged stack; the process lives on.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			loggerFrom(c).ErrorContext(c.Request.Context(), "panic",
				slog.String("panic", fmt.Sprint(rec)), slog.String("stack", string(debug.Stack())))
			if !c.Writer.Written() {
				writeError(c, fmt.Errorf("panic: %v", rec))
				return
			}
			c.Abort()
		}()
		c.Next()
	}
}

// securityHeaders suits a JSON API: nothing may be framed, sniffed or cached.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		setSecurityHeaders(c.Writer.Header())
		c.Next()
	}
}

func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
}

// bodyLimit caps every request body, refusing early when the declared length
// is already too large. decodeJSON reports bodies that lie about their length.
func bodyLimit(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			writeError(c, models.Invalid(codeBodyTooLarge, "request body must be at most %d bytes", max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// requireJSONBody refuses bodies that are not JSON before any handler reads them.
func requireJSONBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if hasBody(c.Request) {
			if err := checkContentType(c.Request); err != nil {
				writeError(c, err)
				return
			}
		}
		c.Next()
	}
}
