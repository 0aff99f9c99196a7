package api

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

const orderA = "ord_of_buyer_a"

func seedOrder(e *env, status models.OrderStatus) models.Order {
	o := models.Order{ID: orderA, BuyerID: buyerA, MerchantID: merchantA, ProductID: productID, Quantity: 1,
		AmountMinor: 1500, Currency: "usd", Status: status, UpdatedAt: time.Now().UTC().Add(-time.Minute)}
	e.store.putOrder(o, models.OrderEvent{ID: 1, OrderID: orderA, To: models.StatusPending, Actor: models.ActorSystem},
		models.OrderEvent{ID: 2, OrderID: orderA, From: models.StatusPending, To: status, Actor: models.ActorSystem})
	return o
}

func TestGetOrderIsVisibleOnlyToItsBuyerAndMerchant(t *testing.T) {
	e := newEnv(t)
	seedOrder(e, models.StatusAuthorized)
	cases := []struct {
		name   string
		path   string
		auth   string
		status int
	}{
		{"its buyer", "/v1/orders/" + orderA, bearerOf(e.buyerToken(buyerA)), 200},
		{"its merchant", "/v1/orders/" + orderA, bearerOf(keyA), 200},
		{"another buyer", "/v1/orders/" + orderA, bearerOf(e.buyerToken(buyerB)), 404},
		{"another merchant", "/v1/orders/" + orderA, bearerOf(keyB), 404},
		{"unknown id", "/v1/orders/ord_unknown", bearerOf(e.buyerToken(buyerA)), 404},
		{"malformed id", "/v1/orders/ord%20x", bearerOf(e.buyerToken(buyerA)), 404},
		{"anonymous", "/v1/orders/" + orderA, "", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(req{method: http.MethodGet, path: tc.path, auth: tc.auth})
			if tc.status != http.StatusOK {
				requireError(t, w, tc.status, "")
				require.NotContains(t, w.Body.String(), buyerA, "a refused answer leaks the order")
				return
			}
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			m := decodeBody(t, w)
			require.Equal(t, orderA, m["id"])
			require.Equal(t, "authorized", m["status"])
			require.Len(t, m["events"], 2)
		})
	}
}

func TestMerchantActionsOnAnotherMerchantsOrderAre404(t *testing.T) {
	e := newEnv(t)
	seedOrder(e, models.StatusAuthorized)
	for _, action := range []string{"accept", "reject", "ship", "deliver"} {
		w := e.do(req{method: http.MethodPost, path: "/v1/merchant/orders/" + orderA + "/" + action, auth: bearerOf(keyB),
			body: `{"carrier":"UPS","tracking_number":"1Z"}`})
		requireError(t, w, http.StatusNotFound, "not_found")
	}
	w := e.do(req{method: http.MethodPost, path: "/v1/orders/" + orderA + "/cancel", auth: bearerOf(e.buyerToken(buyerB))})
	requireError(t, w, http.StatusNotFound, "not_found")
	e.temporal.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
}

// expectUpdate makes the next update named name answer with h / err.
func (e *env) expectUpdate(name string, arg any, h client.WorkflowUpdateHandle, err error) *mock.Call {
	return e.temporal.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.WorkflowID == workflows.WorkflowID(orderA) && o.UpdateName == name &&
			o.WaitForStage == client.WorkflowUpdateStageCompleted && len(o.Args) == 1 && o.Args[0] == arg
	})).Return(h, err)
}

func TestMerchantUpdates(t *testing.T) {
	actor := models.MerchantActor(merchantA)
	shipped := func(e *env) models.Order {
		o, _ := e.store.Order(t.Context(), orderA)
		o.Status, o.Carrier, o.TrackingNumber, o.UpdatedAt = models.StatusShipped, "UPS", "1Z999", time.Now().UTC()
		return o
	}
	transitionErr := failures.ToTemporal(models.CheckTransition(models.StatusAuthorized, models.StatusShipped))
	cases := []struct {
		name   string
		action string
		body   string
		update string
		arg    any
		result func(*env) models.Order
		err    error
		status int
		code   string
	}{
		{name: "accept", action: "accept", update: workflows.UpdateAccept, arg: workflows.AcceptInput{Actor: actor},
			result: func(e *env) models.Order { o, _ := e.store.Order(t.Context(), orderA); return o }, status: 200},
		{name: "reject with reason", action: "reject", body: `{"reason":"out of stock"}`, update: workflows.UpdateReject,
			arg: workflows.RejectInput{Actor: actor, Reason: "out of stock"}, result: shipped, status: 200},
		{name: "ship", action: "ship", body: `{"carrier":" UPS ","tracking_number":"1Z999","tracking_url":"https://ups.example/1Z999"}`,
			update: workflows.UpdateShip, arg: workflows.ShipInput{Actor: actor, Carrier: "UPS", TrackingNumber: "1Z999",
				TrackingURL: "https://ups.example/1Z999"}, result: shipped, status: 200},
		{name: "ship before accept", action: "ship", body: `{"carrier":"UPS","tracking_number":"1Z999"}`,
			update: workflows.UpdateShip, arg: workflows.ShipInput{Actor: actor, Carrier: "UPS", TrackingNumber: "1Z999"},
			err: transitionErr, status: 409, code: "invalid_transition"},
		{name: "workflow gone", action: "deliver", update: workflows.UpdateDeliver, arg: workflows.DeliverInput{Actor: actor},
			err: serviceerror.NewNotFound("workflow not found"), status: 404, code: "not_found"},
		{name: "workflow completed", action: "accept", update: workflows.UpdateAccept, arg: workflows.AcceptInput{Actor: actor},
			err: serviceerror.NewNotFound("workflow execution already completed"), status: 409, code: codeOrderClosed},
		{name: "unexpected failure", action: "accept", update: workflows.UpdateAccept, arg: workflows.AcceptInput{Actor: actor},
			err: errors.New("boom with secret detail"), status: 500, code: "internal"},
		{name: "ship without tracking", action: "ship", body: `{"carrier":"UPS"}`, status: 400, code: "invalid_tracking_number"},
		{name: "ship with http url", action: "ship", body: `{"carrier":"UPS","tracking_number":"1","tracking_url":"javascript:alert(1)"}`,
			status: 400, code: "invalid_tracking_url"},
		{name: "ship without body", action: "ship", status: 400, code: codeMalformedJSON},
		{name: "accept with unknown field", action: "accept", body: `{"force":true}`, status: 400, code: codeUnknownField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			seedOrder(e, models.StatusAuthorized)
			if tc.update != "" {
				if tc.err != nil {
					e.expectUpdate(tc.update, tc.arg, fakeHandle{err: tc.err}, nil).Once()
				} else {
					e.expectUpdate(tc.update, tc.arg, fakeHandle{result: tc.result(e)}, nil).Once()
				}
			}
			w := e.do(req{method: http.MethodPost, path: "/v1/merchant/orders/" + orderA + "/" + tc.action,
				auth: bearerOf(keyA), body: tc.body})
			if tc.code != "" {
				requireError(t, w, tc.status, tc.code)
				require.NotContains(t, w.Body.String(), "secret detail")
				return
			}
			require.Equal(t, tc.status, w.Code, w.Body.String())
			m := decodeBody(t, w)
			require.Equal(t, orderA, m["id"])
			require.Contains(t, m, "events")
		})
	}
}

func TestUpdateIDComesFromIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	o := seedOrder(e, models.StatusAuthorized)
	e.temporal.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(opt client.UpdateWorkflowOptions) bool {
		return opt.UpdateID == "accept:retry-1"
	})).Return(fakeHandle{result: o}, nil).Twice()
	for range 2 {
		w := e.do(req{method: http.MethodPost, path: "/v1/merchant/orders/" + orderA + "/accept", auth: bearerOf(keyA),
			headers: map[string]string{"Idempotency-Key": "retry-1"}})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
}

func TestBuyerCancel(t *testing.T) {
	e := newEnv(t)
	o := seedOrder(e, models.StatusAuthorized)
	arg := workflows.CancelInput{Actor: models.BuyerActor(buyerA), Reason: "changed my mind"}
	o.Status = models.StatusCancelled
	e.expectUpdate(workflows.UpdateCancel, arg, fakeHandle{result: o}, nil).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/orders/" + orderA + "/cancel", auth: bearerOf(e.buyerToken(buyerA)),
		body: `{"reason":"changed my mind"}`})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	// After shipping the workflow's validator refuses; the answer is a conflict.
	shippedErr := failures.ToTemporal(models.CheckTransition(models.StatusShipped, models.StatusCancelled))
	e.expectUpdate(workflows.UpdateCancel, workflows.CancelInput{Actor: models.BuyerActor(buyerA)},
		nil, shippedErr).Once()
	w = e.do(req{method: http.MethodPost, path: "/v1/orders/" + orderA + "/cancel", auth: bearerOf(e.buyerToken(buyerA))})
	requireError(t, w, http.StatusConflict, "invalid_transition")

	// A merchant cannot use the buyer's cancel.
	w = e.do(req{method: http.MethodPost, path: "/v1/orders/" + orderA + "/cancel", auth: bearerOf(keyA)})
	requireError(t, w, http.StatusUnauthorized, "unauthorized")
}
