package api

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
)

// requireOperator admits callers presenting OPERATOR_TOKEN. Both sides are
// hashed first so the comparison takes the same time whatever the lengths.
// Without a configured token the operator endpoints are closed to everyone.
func (a *app) requireOperator(c *gin.Context) {
	if a.cfg.OperatorToken == "" {
		writeError(c, models.Errorf(models.KindForbidden, "operator_disabled", "operator endpoints are disabled: OPERATOR_TOKEN is not set"))
		return
	}
	cred, ok := bearer(c)
	if !ok || !operatorTokenMatches(cred, a.cfg.OperatorToken) {
		writeError(c, errUnauthenticated)
		return
	}
	c.Next()
}

func operatorTokenMatches(given, want string) bool {
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
