package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// fakeRun is a finished workflow run: Get yields result (through JSON) or err.
type fakeRun struct {
	result any
	err    error
}

func (r fakeRun) GetID() string                  { return "" }
func (r fakeRun) GetRunID() string               { return "" }
func (r fakeRun) GetFirstExecutionRunID() string { return "" }
func (r fakeRun) Get(_ context.Context, ptr any) error {
	if r.err != nil {
		return r.err
	}
	b, err := json.Marshal(r.result)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}
func (r fakeRun) GetWithOptions(ctx context.Context, ptr any, _ client.WorkflowRunGetOptions) error {
	return r.Get(ctx, ptr)
}

func refundEnv(t *testing.T) *env {
	e := newEnv(t)
	e.store.putOrder(models.Order{ID: "ord_r", MerchantID: merchantA, BuyerID: buyerA, Status: models.StatusAccepted,
		AmountMinor: 2500, CapturedMinor: 2500, Currency: "usd"})
	return e
}

func (e *env) refund(body, key string, auth string) (int, map[string]any) {
	e.t.Helper()
	w := e.do(req{method: http.MethodPost, path: "/v1/merchant/orders/ord_r/refund", body: body, auth: auth,
		headers: map[string]string{"Idempotency-Key": key}})
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m
}

func (e *env) expectRefundUpdate(key string, amount int64, h client.WorkflowUpdateHandle, err error) {
	e.temporal.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.WorkflowID == workflows.WorkflowID("ord_r") && o.UpdateName == workflows.UpdateRefund &&
			o.UpdateID == workflows.RefundUpdateID(key) && o.WaitForStage == client.WorkflowUpdateStageCompleted &&
			len(o.Args) == 1 && o.Args[0] == workflows.RefundInput{OrderID: "ord_r", Key: key, Amount: amount,
			Reason: "damaged", Actor: models.MerchantActor(merchantA)}
	})).Return(h, err).Once()
}

func (e *env) expectRefundAfterEnd(key string, amount int64, run client.WorkflowRun, err error) {
	in := workflows.RefundInput{OrderID: "ord_r", Key: key, Amount: amount, Reason: "damaged", Actor: models.MerchantActor(merchantA)}
	e.temporal.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return o.ID == workflows.EndedOrderWorkflowID("ord_r", workflows.RefundUpdateID(key)) && o.TaskQueue == "checkout"
	}), workflows.EndedOrderWorkflowName, workflows.EndedOrderInput{OrderID: "ord_r", Refund: &in}).Return(run, err).Once()
}

func TestRefundEndpointRefusesBadRequests(t *testing.T) {
	e := refundEnv(t)
	merchant := bearerOf(keyA)
	for _, c := range []struct {
		name, body, key, auth string
		status                int
		code                  string
	}{
		{"no key", `{"amount":100}`, "", merchant, http.StatusBadRequest, codeIdempotencyKeyRequired},
		{"zero", `{"amount":0}`, "k", merchant, http.StatusBadRequest, "invalid_amount"},
		{"negative", `{"amount":-5}`, "k", merchant, http.StatusBadRequest, "invalid_amount"},
		{"fraction", `{"amount":1.5}`, "k", merchant, http.StatusBadRequest, ""},
		{"unknown field", `{"amount":1,"currency":"usd"}`, "k", merchant, http.StatusBadRequest, codeUnknownField},
		{"another merchant's order", `{"amount":100}`, "k", bearerOf(keyB), http.StatusNotFound, "not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(req{method: http.MethodPost, path: "/v1/merchant/orders/ord_r/refund", body: c.body, auth: c.auth,
				headers: map[string]string{"Idempotency-Key": c.key}})
			requireError(t, w, c.status, c.code)
		})
	}
}

func TestRefundEndpointAnswers(t *testing.T) {
	e := refundEnv(t)
	merchant := bearerOf(keyA)
	done := workflows.RefundResult{Refund: models.Refund{OrderID: "ord_r", AmountMinor: 500, Status: models.RefundSucceeded, StripeRefundID: "re_1"}}

	e.expectRefundUpdate("k-1", 500, fakeHandle{result: done}, nil)
	status, body := e.refund(`{"amount":500,"reason":"damaged"}`, "k-1", merchant)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "re_1", body["refund"].(map[string]any)["stripe_refund_id"])
	assert.Equal(t, "ord_r", body["order"].(map[string]any)["id"])

	// The workflow refuses the key for another amount.
	e.expectRefundUpdate("k-1", 700, nil, failures.ToTemporal(models.Invalid(codeIdempotencyKeyReused, "another amount")))
	status, body = e.refund(`{"amount":700,"reason":"damaged"}`, "k-1", merchant)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)

	e.expectRefundUpdate("k-2", 5000, fakeHandle{err: failures.ToTemporal(models.Conflict("refund_exceeds_captured", "too much"))}, nil)
	status, body = e.refund(`{"amount":5000,"reason":"damaged"}`, "k-2", merchant)
	assert.Equal(t, http.StatusConflict, status, "%v", body)
	assert.Equal(t, "refund_exceeds_captured", body["error"].(map[string]any)["code"])
}

// Once the order's workflow has ended, the refund runs in a short workflow
// named after the order and the key.
func TestRefundAfterTheOrderEndedRunsItsOwnWorkflow(t *testing.T) {
	e := refundEnv(t)
	done := workflows.RefundResult{Refund: models.Refund{OrderID: "ord_r", AmountMinor: 500, Status: models.RefundSucceeded, StripeRefundID: "re_9"}}
	e.expectRefundUpdate("k-late", 500, nil, serviceerror.NewNotFound("workflow execution already completed"))
	e.expectRefundAfterEnd("k-late", 500, fakeRun{result: done}, nil)
	status, body := e.refund(`{"amount":500,"reason":"damaged"}`, "k-late", bearerOf(keyA))
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "re_9", body["refund"].(map[string]any)["stripe_refund_id"])
	e.temporal.AssertExpectations(t)
}
