package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

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

// resolveAfterEnd settles an order that needs attention after its workflow
// ended (its cancel's refund failed at Stripe later) through a short
// workflow; concurrent requests join one run.
func (a *app) resolveAfterEnd(c *gin.Context, orderID string, arg any) {
	in, ok := arg.(workflows.ResolveInput)
	if !ok {
		writeError(c, models.Errorf(models.KindInternal, "internal", "unexpected resolve input"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), updateWait)
	defer cancel()
	run, err := a.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.EndedOrderWorkflowID(orderID, "resolve"),
		TaskQueue:                                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: false,
	}, workflows.EndedOrderWorkflowName, workflows.EndedOrderInput{OrderID: orderID, Resolve: &in})
	var res workflows.RefundResult
	if err == nil {
		err = run.Get(ctx, &res)
	}
	if err != nil {
		writeError(c, fromTemporal(err))
		return
	}
	o, err := a.cfg.Store.Order(c.Request.Context(), orderID)
	if err != nil {
		writeError(c, err)
		return
	}
	a.writeOrder(c, o)
}
