package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
)

const codeNotInRollout = "not_in_rollout"

var errNotInRollout = models.Errorf(models.KindForbidden, codeNotInRollout,
	"buying is not available to this buyer yet")

// optionalBuyer is the buyer behind a valid buyer token, or "" for anyone
// else. Public pages must render for anonymous viewers and stale tokens, so a
// bad token here is treated as no token rather than refused.
func (a *app) optionalBuyer(c *gin.Context) string {
	cred, ok := bearer(c)
	if !ok || strings.HasPrefix(cred, merchantKeyPrefix) {
		return ""
	}
	id, err := a.parseBuyerToken(cred)
	if err != nil {
		return ""
	}
	return id
}

// buyEnabled says whether buyerID sees the Buy button on merchantID's products.
func (a *app) buyEnabled(buyerID, merchantID string) bool {
	return a.cfg.Rollout.Allowed(buyerID, merchantID).Allowed
}

// checkRollout refuses purchases from buyers outside the rollout. It runs
// before the idempotency key is claimed, so a refused buyer leaves nothing
// behind. A retry of an order that already exists passes: the purchase was
// admitted once, and its outcome must stay reachable after a rollback.
// merchantID is the product's seller, "" when the product is unknown.
func (a *app) checkRollout(ctx context.Context, buyer, merchantID, orderID string) error {
	if a.buyEnabled(buyer, merchantID) {
		return nil
	}
	if _, err := a.cfg.Store.Order(ctx, orderID); err == nil {
		return nil
	}
	return errNotInRollout
}

// rolloutView always has lists, never null, so clients can iterate blindly.
func rolloutView(s rollout.Settings) rollout.Settings {
	for _, l := range []*[]string{&s.Allow, &s.Deny, &s.DisabledMerchants} {
		if *l == nil {
			*l = []string{}
		}
	}
	return s
}

func (a *app) getRollout(c *gin.Context) {
	c.JSON(http.StatusOK, rolloutView(a.cfg.Rollout.Settings()))
}

// putRollout replaces the whole rollout at run time. It is not persisted: a
// restart goes back to the ROLLOUT_* environment, which stays the source of
// truth for a deploy.
func (a *app) putRollout(c *gin.Context) {
	var s rollout.Settings
	if err := decodeJSON(c, &s); err != nil {
		writeError(c, err)
		return
	}
	if err := a.cfg.Rollout.Update(s); err != nil {
		writeError(c, err)
		return
	}
	now := a.cfg.Rollout.Settings()
	loggerFrom(c).InfoContext(c.Request.Context(), "rollout changed",
		slog.Float64("percent", now.Percent), slog.Int("allow", len(now.Allow)),
		slog.Int("deny", len(now.Deny)), slog.Int("disabled_merchants", len(now.DisabledMerchants)))
	c.JSON(http.StatusOK, rolloutView(now))
}
