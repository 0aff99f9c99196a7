package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// orderView is an order with its audit trail.
type orderView struct {
	models.Order
	Events []models.OrderEvent `json:"events"`
	// Payout is what the order brings the merchant (fee, net…); merchants only.
	Payout *models.OrderBalance `json:"payout,omitempty"`
}

var errOrderNotFound = models.NotFound("order")

// visibleOrder loads an order the caller may see. Anything else, including an
// order that exists but belongs to someone else, is not found: answering 403
// would confirm that the id exists.
func (a *app) visibleOrder(c *gin.Context) (models.Order, error) {
	id := c.Param("id")
	if !models.ValidID(id) {
		return models.Order{}, errOrderNotFound
	}
	o, err := a.cfg.Store.Order(c.Request.Context(), id)
	if err != nil {
		return models.Order{}, err
	}
	if b, ok := buyerID(c); ok && o.BuyerID == b {
		return o, nil
	}
	if m, ok := merchant(c); ok && o.MerchantID == m.ID {
		return o, nil
	}
	return models.Order{}, errOrderNotFound
}

func (a *app) getOrder(c *gin.Context) {
	o, err := a.visibleOrder(c)
	if err != nil {
		writeError(c, err)
		return
	}
	a.writeOrder(c, o)
}

func (a *app) writeOrder(c *gin.Context, o models.Order) {
	v, err := a.orderWithEvents(c.Request.Context(), o)
	if err == nil {
		v.Payout, err = a.merchantPayout(c, o)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// orderWithEvents adds o's audit trail. Call it right after reading o: the
// events are read after the order, so they are at least as new as the
// status shown.
func (a *app) orderWithEvents(ctx context.Context, o models.Order) (orderView, error) {
	events, err := a.cfg.Store.OrderEvents(ctx, o.ID)
	if err != nil {
		return orderView{}, err
	}
	if events == nil {
		events = []models.OrderEvent{}
	}
	return orderView{Order: o, Events: events}, nil
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

const maxReasonLen = 500

func checkReason(reason string) error {
	if len(reason) > maxReasonLen {
		return models.Invalid("invalid_reason", "reason must be at most %d bytes", maxReasonLen)
	}
	return nil
}

func (a *app) cancelOrder(c *gin.Context) {
	o, err := a.visibleOrder(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req cancelRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := checkReason(req.Reason); err != nil {
		writeError(c, err)
		return
	}
	buyer, _ := buyerID(c)
	a.runUpdate(c, o.ID, workflows.UpdateCancel, workflows.CancelInput{Actor: models.BuyerActor(buyer), Reason: req.Reason})
}

// updateWait bounds a merchant's or buyer's update: the workflow answers as
// soon as the step (a capture, a refund) is done.
const updateWait = 30 * time.Second

// runUpdate sends an update to the order's workflow, waits for its outcome
// and answers with the order as it is now. Rejections by the workflow come
// back as domain errors (e.g. 409 invalid_transition).
// updateOutcome is the status each order update leads to.
var updateOutcome = map[string]models.OrderStatus{
	workflows.UpdateAccept:  models.StatusAccepted,
	workflows.UpdateReject:  models.StatusRejected,
	workflows.UpdateShip:    models.StatusShipped,
	workflows.UpdateDeliver: models.StatusDelivered,
	workflows.UpdateCancel:  models.StatusCancelled,
}

func (a *app) runUpdate(c *gin.Context, orderID, name string, arg any) {
	id, err := updateID(c, name)
	if err != nil {
		writeError(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), updateWait)
	defer cancel()
	h, err := a.cfg.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(orderID),
		UpdateID:     id,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var updated models.Order
	if err == nil {
		err = h.Get(ctx, &updated)
	}
	if err != nil {
		err = fromTemporal(err)
		// Repeating the action that closed the order (deliver twice, cancel
		// twice) is answered like any other repeat: 200 with the same state.
		var closed *models.Error
		if errors.As(err, &closed) && closed.Code == codeOrderClosed && name == workflows.UpdateResolve {
			a.resolveAfterEnd(c, orderID, arg)
			return
		}
		if errors.As(err, &closed) && closed.Code == codeOrderClosed {
			if o, rerr := a.cfg.Store.Order(c.Request.Context(), orderID); rerr == nil && o.Status == updateOutcome[name] {
				a.writeOrder(c, o)
				return
			}
		}
		writeError(c, err)
		return
	}
	// The store is the read model the workflow has just written; reading it
	// back gives the same view as GET /v1/orders/:id.
	o, err := a.cfg.Store.Order(c.Request.Context(), orderID)
	if err != nil {
		writeError(c, err)
		return
	}
	if updated.ID == orderID && updated.UpdatedAt.After(o.UpdatedAt) {
		o = updated
	}
	a.writeOrder(c, o)
}
