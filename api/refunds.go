package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// refundRequest is the body of POST /v1/merchant/orders/{id}/refund.
type refundRequest struct {
	Amount int64  `json:"amount"`
	Reason string `json:"reason,omitempty"`
	// Lines, instead of Amount, refunds units of the order's lines (see
	// models.OrderPricing.RefundOfLines).
	Lines []models.RefundLine `json:"lines,omitempty"`
}

// codeRefundPending answers a refund still running when the request stops waiting.
const codeRefundPending = "refund_pending"

func (r refundRequest) validate() error {
	if r.Amount <= 0 {
		return models.Invalid("invalid_amount", "amount must be a positive integer in minor units")
	}
	return checkReason(r.Reason)
}

// refundOrder refunds part or all of a captured order. The refund is an
// update of the order's workflow, which counts it against the capture (409
// beyond it) and makes it; the update id is derived from the Idempotency-Key,
// so a retried request reaches the same refund and gets its answer. Once the
// order's workflow has ended, a short workflow named after the order and the
// key makes it instead, with the same steps and the same idempotency.
func (a *app) refundOrder(c *gin.Context) {
	o, m, ok := a.merchantOrder(c)
	if !ok {
		return
	}
	key, err := requireIdempotencyKey(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req refundRequest
	if err := decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if len(req.Lines) > 0 {
		if req.Amount != 0 {
			writeError(c, models.Invalid("amount_or_lines", "refund an amount or lines, not both"))
			return
		}
		if req.Amount, err = o.RefundOfLines(req.Lines); err != nil {
			writeError(c, err)
			return
		}
	}
	if err := req.validate(); err != nil {
		writeError(c, err)
		return
	}
	in := workflows.RefundInput{OrderID: o.ID, Key: key, Amount: req.Amount, Reason: req.Reason, Actor: models.MerchantActor(m.ID)}
	ctx, cancel := context.WithTimeout(c.Request.Context(), updateWait)
	defer cancel()
	res, err := a.refundInWorkflow(ctx, in)
	var closed *models.Error
	if errors.As(err, &closed) && closed.Code == codeOrderClosed {
		res, err = a.refundAfterEnd(ctx, in)
	}
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The refund goes on; the same request again reads its outcome.
		c.JSON(http.StatusAccepted, gin.H{"order_id": o.ID, "status": codeRefundPending})
		return
	default:
		writeError(c, err)
		return
	}
	if res.Refund.AmountMinor != req.Amount {
		writeError(c, models.Invalid(codeIdempotencyKeyReused, "this Idempotency-Key was used for a refund of another amount"))
		return
	}
	latest, err := a.cfg.Store.Order(c.Request.Context(), o.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	view, err := a.orderWithEvents(c.Request.Context(), latest)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"refund": res.Refund, "order": view})
}

// refundInWorkflow sends the refund update to the order's workflow.
func (a *app) refundInWorkflow(ctx context.Context, in workflows.RefundInput) (workflows.RefundResult, error) {
	h, err := a.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(in.OrderID),
		UpdateID:     workflows.RefundUpdateID(in.Key),
		UpdateName:   workflows.UpdateRefund,
		Args:         []any{in},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.RefundResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, fromTemporal(err)
}

// refundAfterEnd runs the refund of an order whose workflow has ended.
func (a *app) refundAfterEnd(ctx context.Context, in workflows.RefundInput) (workflows.RefundResult, error) {
	var res workflows.RefundResult
	run, err := a.cfg.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.EndedOrderWorkflowID(in.OrderID, workflows.RefundUpdateID(in.Key)),
		TaskQueue: a.cfg.TaskQueue,
		// The id names the request: a retry joins the run in progress or
		// reads the result of the finished one, never refunds again.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: false,
	}, workflows.EndedOrderWorkflowName, workflows.EndedOrderInput{OrderID: in.OrderID, Refund: &in})
	if err == nil {
		err = run.Get(ctx, &res)
	}
	return res, fromTemporal(err)
}
