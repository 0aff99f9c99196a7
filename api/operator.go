package api

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
)

// requireAdmin admits callers presenting ADMIN_TOKEN (the admin role:
// merchants, their keys, the rollout). The codec role's token is not it, so a
// token that can read payloads cannot also create merchants, and the
// reverse. Both sides are hashed first so the comparison takes the same time
// whatever the lengths. Without a configured token the endpoints are closed.
func (a *app) requireAdmin(c *gin.Context) {
	if a.cfg.AdminToken == "" {
		writeError(c, models.Errorf(models.KindForbidden, "operator_disabled", "operator endpoints are disabled: ADMIN_TOKEN is not set"))
		return
	}
	cred, ok := bearer(c)
	if !ok || !tokenMatches(cred, a.cfg.AdminToken) {
		writeError(c, errUnauthenticated)
		return
	}
	c.Next()
}

func tokenMatches(given, want string) bool {
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
