package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// listAttention lists, for operators, the orders whose money could not be
// given back (voids or refunds that failed for good), newest first.
func (a *app) listAttention(c *gin.Context) {
	limit, err := listLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	orders, err := a.cfg.Store.ListOrdersInStatus(c.Request.Context(), models.StatusNeedsAttention, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"orders": orders})
}

type resolveRequest struct {
	Action string `json:"action"`
	Note   string `json:"note"`
}

// resolveOrder settles an order in needs_attention through its workflow:
// "retry" gives the money back again, "resolved" records that an operator
// did it by other means.
func (a *app) resolveOrder(c *gin.Context) {
	var req resolveRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Action != workflows.ResolveRetry && req.Action != workflows.ResolveResolved {
		writeError(c, asUnprocessable(models.Invalid("invalid_action", "action must be %q or %q",
			workflows.ResolveRetry, workflows.ResolveResolved)))
		return
	}
	if err := checkReason(req.Note); err != nil {
		writeError(c, err)
		return
	}
	o, err := a.cfg.Store.Order(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	a.runUpdate(c, o.ID, workflows.UpdateResolve,
		workflows.ResolveInput{Actor: models.ActorOperator, Action: req.Action, Note: req.Note})
}
