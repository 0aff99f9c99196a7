package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
)

const readyTimeout = 2 * time.Second

// healthz says the process serves HTTP; it checks no dependency, so a
// database outage does not get the process restarted.
func (a *app) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says whether this instance can take traffic: store and Temporal reachable.
func (a *app) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()

	checks := map[string]string{"store": "ok", "temporal": "ok"}
	var failed []string
	if a.cfg.Store == nil || a.cfg.Store.Ping(ctx) != nil {
		checks["store"] = "unavailable"
		failed = append(failed, "store")
	}
	if a.cfg.Temporal == nil {
		checks["temporal"] = "unavailable"
		failed = append(failed, "temporal")
	} else if _, err := a.cfg.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unavailable"
		failed = append(failed, "temporal")
	}
	if len(failed) == 0 {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
		return
	}
	err := models.Errorf(models.KindUnavailable, codeNotReady, "not ready: %v unavailable", failed)
	status, body := publicError(err)
	c.JSON(status, gin.H{"status": "unavailable", "checks": checks, "error": body})
}
