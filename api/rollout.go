package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
func (a *app) optionalBuyer(c *gin.Context) buyerIdentity {
	cred, ok := bearer(c)
	if !ok || strings.HasPrefix(cred, merchantKeyPrefix) {
		return buyerIdentity{}
	}
	id, err := a.parseBuyerToken(cred)
	if err != nil {
		return buyerIdentity{}
	}
	return id
}

// buyerCountry is the country claim of the request's buyer token.
func buyerCountry(c *gin.Context) string {
	v, _ := c.Get(ctxBuyerCountry)
	s, _ := v.(string)
	return s
}

// buyEnabled says whether the buyer sees the Buy button on merchantID's products.
func (a *app) buyEnabled(buyer buyerIdentity, merchantID string) bool {
	return a.cfg.Rollout.AllowedIn(buyer.ID, buyer.Country, merchantID).Allowed
}

// checkRollout refuses purchases from buyers outside the rollout. It runs
// before the idempotency key is claimed, so a refused buyer leaves nothing
// behind. A retry of an order that already exists passes: the purchase was
// admitted once, and its outcome must stay reachable after a rollback.
// merchantID is the product's seller, "" when the product is unknown.
func (a *app) checkRollout(ctx context.Context, buyer buyerIdentity, merchantID, orderID string) error {
	if a.buyEnabled(buyer, merchantID) {
		return nil
	}
	if _, err := a.cfg.Store.Order(ctx, orderID); err == nil {
		return nil
	}
	return errNotInRollout
}

// RolloutStore keeps the rollout settings for every replica: versioned,
// with who saved each version (package store).
type RolloutStore interface {
	RolloutSettings(ctx context.Context) (models.RolloutRecord, error)
	SaveRolloutSettings(ctx context.Context, base int64, settings []byte, actor string) (models.RolloutRecord, error)
	RolloutHistory(ctx context.Context, limit int) ([]models.RolloutRecord, error)
}

// LoadRollout reads the latest stored settings: ok is false when none were
// ever saved (the environment's apply).
func LoadRollout(ctx context.Context, st RolloutStore) (s rollout.Settings, version int64, ok bool, err error) {
	rec, err := st.RolloutSettings(ctx)
	if errors.Is(err, models.ErrNotFound) {
		return s, 0, false, nil
	}
	if err != nil {
		return s, 0, false, err
	}
	if err := json.Unmarshal(rec.Settings, &s); err != nil {
		return s, 0, false, fmt.Errorf("rollout settings version %d: %w", rec.Version, err)
	}
	return s, rec.Version, true, nil
}

// rolloutResponse is the settings in force with their version and the
// share the ramp schedule gives right now.
type rolloutResponse struct {
	rollout.Settings
	Version    int64   `json:"version"`
	PercentNow float64 `json:"percent_now"`
}

// rolloutView always has lists, never null, so clients can iterate blindly.
func (a *app) rolloutView() rolloutResponse {
	s := a.cfg.Rollout.Settings()
	for _, l := range []*[]string{&s.Allow, &s.Deny, &s.DisabledMerchants, &s.Countries} {
		if *l == nil {
			*l = []string{}
		}
	}
	if s.Schedule == nil {
		s.Schedule = []rollout.Step{}
	}
	return rolloutResponse{Settings: s, Version: a.cfg.Rollout.Version(), PercentNow: s.PercentAt(time.Now())}
}

func (a *app) getRollout(c *gin.Context) {
	c.JSON(http.StatusOK, a.rolloutView())
}

// putRollout replaces the whole rollout. With a store (every deployed api)
// it is saved as the next version, audited with the X-Actor header (an id;
// "admin" without one), and every replica takes it up within
// ROLLOUT_REFRESH; a save over a version other than the latest is refused
// with 409 rollout_changed. Without a store it changes this process only.
func (a *app) putRollout(c *gin.Context) {
	var s rollout.Settings
	if err := decodeJSON(c, &s); err != nil {
		writeError(c, err)
		return
	}
	if err := s.Validate(); err != nil {
		writeError(c, err)
		return
	}
	actor := "admin"
	if h := c.GetHeader("X-Actor"); h != "" {
		if !models.ValidID(h) {
			writeError(c, models.Invalid("invalid_actor", "X-Actor must be an id: 4 to 64 letters, digits, _ or -"))
			return
		}
		actor = "admin:" + h
	}
	version := int64(0)
	if a.cfg.RolloutStore != nil {
		raw, err := json.Marshal(s)
		if err != nil {
			writeError(c, err)
			return
		}
		rec, err := a.cfg.RolloutStore.SaveRolloutSettings(c.Request.Context(), a.cfg.Rollout.Version(), raw, actor)
		if err != nil {
			writeError(c, err)
			return
		}
		version = rec.Version
	}
	if err := a.cfg.Rollout.UpdateVersion(s, version); err != nil {
		writeError(c, err)
		return
	}
	now := a.rolloutView()
	loggerFrom(c).InfoContext(c.Request.Context(), "rollout changed", slog.Int64("version", now.Version),
		slog.String("actor", actor), slog.Float64("percent", now.Percent), slog.Float64("percent_now", now.PercentNow),
		slog.Int("schedule_steps", len(now.Schedule)), slog.Bool("paused", now.Paused), slog.Int("countries", len(now.Countries)),
		slog.Int("allow", len(now.Allow)), slog.Int("deny", len(now.Deny)), slog.Int("disabled_merchants", len(now.DisabledMerchants)))
	c.JSON(http.StatusOK, now)
}

// rolloutHistory lists the stored versions, newest first: the audit trail.
func (a *app) rolloutHistory(c *gin.Context) {
	if a.cfg.RolloutStore == nil {
		c.JSON(http.StatusOK, gin.H{"versions": []any{}})
		return
	}
	recs, err := a.cfg.RolloutStore.RolloutHistory(c.Request.Context(), 100)
	if err != nil {
		writeError(c, err)
		return
	}
	type version struct {
		models.RolloutRecord
		Settings json.RawMessage `json:"settings"`
	}
	out := make([]version, 0, len(recs))
	for _, r := range recs {
		out = append(out, version{RolloutRecord: r, Settings: r.Settings})
	}
	c.JSON(http.StatusOK, gin.H{"versions": out})
}
