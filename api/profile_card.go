package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// cardChangeWait bounds how long PUT /v1/me/profile waits for a new card to
// be attached and recorded. Past it the change goes on in its workflow and
// the buyer retries with the same request to learn the outcome.
var cardChangeWait = 20 * time.Second

const codeCardChangeInProgress = "card_change_in_progress"

// cardRequestKey names one card change: the Idempotency-Key when the client
// sent one, else the card itself, since a payment method can be attached
// only once and so a second PUT with it is a retry.
func cardRequestKey(c *gin.Context, pm string) (string, error) {
	key, ok, err := idempotencyKey(c)
	if err != nil {
		return "", err
	}
	if !ok {
		return "card:" + pm, nil
	}
	return "key:" + key + "\x00" + pm, nil
}

// replaceCard runs the buyer's card change through ProfileCardWorkflow (the
// API does no Stripe I/O) and waits, at most cardChangeWait, for the new
// card to be saved or refused. A refused card answers with its code; the
// saved card is then unchanged.
func (a *app) replaceCard(ctx context.Context, p models.Profile, requestKey, pm string) error {
	waitCtx, cancel := context.WithTimeout(ctx, cardChangeWait)
	defer cancel()
	id := workflows.ProfileCardWorkflowID(p.BuyerID, requestKey)
	op := a.cfg.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                a.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.ProfileCardWorkflowName, workflows.ProfileCardInput{
		ProfileID:          p.ID,
		BuyerID:            p.BuyerID,
		CustomerID:         p.StripeCustomerID,
		OldPaymentMethodID: p.PaymentMethodID,
		PaymentMethod:      pm,
	})
	var res workflows.ProfileCardResult
	h, err := a.cfg.Temporal.UpdateWithStartWorkflow(waitCtx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     workflows.CardResultUpdateID,
			UpdateName:   workflows.UpdateCardResult,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		err = h.Get(waitCtx, &res)
	}
	if err != nil && workflowClosed(err) {
		// A retry after the change finished: its result is the answer.
		err = a.cfg.Temporal.GetWorkflow(waitCtx, id, "").Get(waitCtx, &res)
	}
	switch {
	case err == nil:
		return res.Err()
	case waitedTooLong(waitCtx, err):
		return models.Errorf(models.KindUnavailable, codeCardChangeInProgress,
			"the new card is still being saved; retry the same request for the outcome")
	default:
		return fromTemporal(err)
	}
}
