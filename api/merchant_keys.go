package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
)

// defaultKeyGrace is how long a rotated-away API key keeps working when the
// merchant does not say: a day covers a staged deploy of the new key.
const defaultKeyGrace = 24 * time.Hour

// errRetiredKey answers a rotated-away key asking for more than a staged
// deploy needs. After a leak the merchant rotates; the leaked key must not
// then rotate again, revoke, move the webhook (and with it the buyers'
// addresses) or send money back.
var errRetiredKey = models.Errorf(models.KindForbidden, "key_retired",
	"this API key has been rotated away: until it expires it may only read and fulfil orders")

// retiredKeyRoutes are what a key in its grace period may still call: reads,
// and the fulfilment steps a deploy still running the old key performs. Any
// route not listed is refused, so a new route is closed to it by default.
var retiredKeyRoutes = map[string]bool{
	"POST /v1/merchant/orders/:id/accept":  true,
	"POST /v1/merchant/orders/:id/reject":  true,
	"POST /v1/merchant/orders/:id/ship":    true,
	"POST /v1/merchant/orders/:id/deliver": true,
}

func retiredKeyMay(method, route string) bool {
	if method == http.MethodGet || method == http.MethodHead {
		return true
	}
	return retiredKeyRoutes[method+" "+route]
}

type rotateKeyRequest struct {
	// GracePeriodSeconds keeps the current key working this long (default a
	// day, at most 30 days; 0 retires it at once).
	GracePeriodSeconds *int64 `json:"grace_period_seconds,omitempty"`
}

// rotateMerchantKey issues a new API key; the current key, the only one that
// may ask, keeps reading and fulfilling for the grace period.
func (a *app) rotateMerchantKey(c *gin.Context) {
	m, _ := merchant(c)
	var req rotateKeyRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	grace := defaultKeyGrace
	if req.GracePeriodSeconds != nil {
		// Compared in seconds: converting a huge value to a Duration first
		// would overflow into a negative grace that passes the bound.
		s, maxSeconds := *req.GracePeriodSeconds, int64(store.MaxKeyGrace/time.Second)
		if s < 0 || s > maxSeconds {
			writeError(c, models.Invalid("invalid_grace_period", "grace_period_seconds must be between 0 and %d", maxSeconds))
			return
		}
		grace = time.Duration(s) * time.Second
	}
	key, expires, err := a.cfg.Store.RotateMerchantKey(c.Request.Context(), m.ID, merchantKey(c).ID, grace)
	if err != nil {
		writeError(c, err)
		return
	}
	a.cfg.Logger.InfoContext(c.Request.Context(), "merchant key rotated", "merchant_id", m.ID, "by_key_id", merchantKey(c).ID)
	a.announceAccountChange(c.Request.Context(), m.ID)
	c.JSON(http.StatusOK, gin.H{"api_key": key, "previous_key_expires_at": expires})
}

type revokeKeyRequest struct {
	// KeyID names the rotated-away key to end; empty ends every one.
	KeyID string `json:"key_id,omitempty"`
}

// revokeMerchantKey ends rotated-away keys at once (a leak): the one named,
// or all of them. Only the current key may ask.
func (a *app) revokeMerchantKey(c *gin.Context) {
	m, _ := merchant(c)
	var req revokeKeyRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	req.KeyID = strings.TrimSpace(req.KeyID)
	if req.KeyID != "" && (!strings.HasPrefix(req.KeyID, models.MerchantKeyIDPrefix) || len(req.KeyID) > 64) {
		writeError(c, models.Invalid("invalid_key_id", "key_id must be an id from GET /v1/merchant/keys"))
		return
	}
	revoked, err := a.cfg.Store.RevokeMerchantKey(c.Request.Context(), m.ID, merchantKey(c).ID, req.KeyID)
	if err != nil {
		writeError(c, err)
		return
	}
	if revoked == nil {
		revoked = []string{}
	}
	a.cfg.Logger.InfoContext(c.Request.Context(), "merchant keys revoked", "merchant_id", m.ID, "key_ids", revoked)
	if len(revoked) > 0 {
		a.announceAccountChange(c.Request.Context(), m.ID)
	}
	c.JSON(http.StatusOK, gin.H{"revoked": revoked})
}

// listMerchantKeys shows the merchant's working keys by id, never the keys.
func (a *app) listMerchantKeys(c *gin.Context) {
	m, _ := merchant(c)
	keys, err := a.cfg.Store.MerchantKeys(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"keys": keys, "caller_key_id": merchantKey(c).ID})
}

// listMerchantAuditEvents shows every key and webhook change, newest first.
func (a *app) listMerchantAuditEvents(c *gin.Context) {
	m, _ := merchant(c)
	events, err := a.cfg.Store.MerchantAuditEvents(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"events": events})
}

// resetMerchantKeys (operator) ends every key of a merchant, current and
// retired, and issues a new one to hand to the merchant: the way back when a
// leaked key was the current one and rotated the merchant out.
func (a *app) resetMerchantKeys(c *gin.Context) {
	id := c.Param("id")
	if !models.ValidID(id) {
		writeError(c, models.NotFound("merchant"))
		return
	}
	if err := decodeOptionalJSON(c, &struct{}{}); err != nil {
		writeError(c, err)
		return
	}
	key, err := a.cfg.Store.ResetMerchantKeys(c.Request.Context(), id)
	if err != nil {
		writeError(c, err)
		return
	}
	a.cfg.Logger.InfoContext(c.Request.Context(), "merchant keys reset by an operator", "merchant_id", id)
	a.announceAccountChange(c.Request.Context(), id)
	c.JSON(http.StatusOK, gin.H{"merchant_id": id, "api_key": key})
}
