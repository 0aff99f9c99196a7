package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/web"
)

const codeEmbedOriginNotAllowed = "embed_origin_not_allowed"

var errEmbedOff = models.Errorf(models.KindNotFound, codeRouteNotFound, "no such route")

// selfOrigin is the checkout's own origin as the browser reached it.
func selfOrigin(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

func (a *app) serveElement(c *gin.Context) {
	if a.cfg.Web == nil {
		writeError(c, errEmbedOff)
		return
	}
	a.cfg.Web.ServeElement(c.Writer)
}

func (a *app) serveEmbedAsset(c *gin.Context) {
	if a.cfg.Web == nil || !a.cfg.Web.ServeAsset(c.Writer, c.Param("file")) {
		writeError(c, errEmbedOff)
	}
}

// serveSheet renders the checkout sheet for an allowed host. The host
// origin in the URL only says where the sheet talks back to; the browser
// enforces it through frame-ancestors, and postMessage checks it both ways.
func (a *app) serveSheet(c *gin.Context) {
	if a.cfg.Web == nil {
		writeError(c, errEmbedOff)
		return
	}
	host := c.Query("host")
	if !a.cfg.Web.Allows(host, selfOrigin(c)) {
		writeError(c, models.Errorf(models.KindForbidden, codeEmbedOriginNotAllowed,
			"this page may not embed the checkout (see EMBED_ALLOWED_ORIGINS)"))
		return
	}
	p, ok := a.productByID(c, c.Query("product"))
	if !ok {
		return
	}
	if err := a.cfg.Web.ServeSheet(c.Writer, host, selfOrigin(c), web.Product{
		ID: p.ID, Title: p.Title, Price: p.PriceMinor, Currency: p.Currency, MaxPerOrder: p.QuantityLimit(),
	}); err != nil {
		loggerFrom(c).ErrorContext(c.Request.Context(), "render sheet", "error", err.Error())
	}
}

func (a *app) serveDemo(c *gin.Context) {
	if a.cfg.Web == nil || a.cfg.Demo == nil {
		writeError(c, errEmbedOff)
		return
	}
	if err := a.cfg.Web.ServeDemo(c.Writer, *a.cfg.Demo); err != nil {
		loggerFrom(c).ErrorContext(c.Request.Context(), "render demo", "error", err.Error())
	}
}

// productCORS lets an allowed host page read the product card with the
// buyer's token (buy_enabled depends on the viewer). Other origins get no
// CORS headers, so their browsers refuse to hand them the answer.
func (a *app) productCORS(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if a.cfg.Web != nil && origin != "" && a.cfg.Web.Allows(origin, selfOrigin(c)) {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Headers", "Authorization")
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
	}
	if c.Request.Method == http.MethodOptions {
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}
