package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

var (
	accept  = AcceptInput{Actor: "merchant:mer_1"}
	ship    = ShipInput{Actor: "merchant:mer_1", Carrier: "ups", TrackingNumber: "1Z999"}
	deliver = DeliverInput{Actor: "merchant:mer_1"}
	cancel  = CancelInput{Actor: "buyer:buyer_1", Reason: "changed my mind"}
)

// scenario is one life of a purchase: how the fakes behave, which updates
// arrive when, and what must have happened.
type scenario struct {
	name         string
	arrange      func(h *harness) func(t *testing.T) // configures fakes and updates; returns extra checks
	wantPay      models.OrderStatus
	wantStatus   models.OrderStatus
	wantCalls    []string // every activity but notifications, in order
	wantNotified []string
}

func TestPurchaseWorkflow(t *testing.T) {
	happyPath := []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:authorized",
		"CapturePayment", "RecordStatus:accepted", "RecordStatus:shipped", "RecordStatus:delivered"}
	authorized := []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:authorized"}
	then := func(prefix []string, rest ...string) []string {
		return append(append([]string(nil), prefix...), rest...)
	}

	scenarios := []scenario{
		{
			name: "accepted, shipped and delivered",
			arrange: func(h *harness) func(*testing.T) {
				acc := h.updateAt(time.Hour, UpdateAccept, "", accept)
				shp := h.updateAt(2*time.Hour, UpdateShip, "", ship)
				dlv := h.updateAt(3*time.Hour, UpdateDeliver, "", deliver)
				payAgain := h.updateAt(30*time.Minute, UpdatePay, "pay-again")
				return func(t *testing.T) {
					assertOrder(t, acc, models.StatusAccepted)
					o := assertOrder(t, shp, models.StatusShipped)
					assert.Equal(t, "1Z999", o.TrackingNumber)
					assertOrder(t, dlv, models.StatusDelivered)
					require.True(t, payAgain.completed)
					assert.Equal(t, h.pay.result, payAgain.result, "pay asked again answers the same")
					final, err := h.result()
					require.NoError(t, err)
					assert.Equal(t, int64(2000), final.CapturedMinor)
					assert.Equal(t, "pi_1", final.PaymentIntentID)
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusDelivered,
			wantCalls: happyPath, wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			name: "card declined",
			arrange: func(h *harness) func(*testing.T) {
				h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindPaymentDeclined, "insufficient_funds", "declined"))
				return func(t *testing.T) {
					assert.Equal(t, "insufficient_funds", payResult(t, h).FailureCode)
				}
			},
			wantPay: models.StatusPaymentFailed, wantStatus: models.StatusPaymentFailed,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "ReleaseStock", "RecordStatus:payment_failed"},
		},
		{
			name: "intent comes back unauthorized",
			arrange: func(h *harness) func(*testing.T) {
				h.intent.Status, h.intent.LastErrorCode = payments.IntentRequiresPaymentMethod, "card_declined"
				return nil
			},
			wantPay: models.StatusPaymentFailed, wantStatus: models.StatusPaymentFailed,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "ReleaseStock", "RecordStatus:payment_failed"},
		},
		{
			name: "stripe unavailable for two minutes",
			arrange: func(h *harness) func(*testing.T) {
				h.authorizeErr = failures.ToTemporal(models.Errorf(models.KindUnavailable, "stripe_down", "503"))
				return func(t *testing.T) {
					assert.Equal(t, "payment_unavailable", payResult(t, h).FailureCode)
				}
			},
			wantPay: models.StatusPaymentFailed, wantStatus: models.StatusPaymentFailed,
			wantCalls: nil, // retried: checked by status only
		},
		{
			name: "sold out",
			arrange: func(h *harness) func(*testing.T) {
				h.reserveErr = failures.ToTemporal(models.Errorf(models.KindSoldOut, "sold_out", "none left"))
				return nil
			},
			wantPay: models.StatusSoldOut, wantStatus: models.StatusSoldOut,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "RecordStatus:sold_out"},
		},
		{
			name: "invalid request",
			arrange: func(h *harness) func(*testing.T) {
				h.validateErr = failures.ToTemporal(models.Invalid("invalid_address", "shipping_address.city is required"))
				return func(t *testing.T) {
					r := payResult(t, h)
					assert.Equal(t, "invalid_address", r.FailureCode)
					assert.NotEmpty(t, r.Message)
				}
			},
			wantPay: models.StatusInvalid, wantStatus: models.StatusInvalid,
			wantCalls: []string{"ValidateOrder"},
		},
		{
			name: "merchant rejects",
			arrange: func(h *harness) func(*testing.T) {
				rej := h.updateAt(time.Hour, UpdateReject, "", RejectInput{Actor: "merchant:mer_1", Reason: "out of mugs"})
				return func(t *testing.T) { assertOrder(t, rej, models.StatusRejected) }
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusRejected,
			wantCalls:    then(authorized, "ReleaseStock", "VoidAuthorization", "RecordStatus:rejected"),
			wantNotified: []string{EventOrderCreated},
		},
		{
			name: "merchant never answers",
			arrange: func(h *harness) func(*testing.T) {
				var before models.OrderStatus
				h.env.RegisterDelayedCallback(func() { before = queryStatus(t, h) }, DefaultAcceptTimeout-time.Minute)
				start := h.env.Now()
				return func(t *testing.T) {
					assert.Equal(t, models.StatusAuthorized, before, "still waiting just before the deadline")
					assert.GreaterOrEqual(t, h.env.Now().Sub(start), DefaultAcceptTimeout)
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusExpired,
			wantCalls:    then(authorized, "ReleaseStock", "VoidAuthorization", "RecordStatus:expired"),
			wantNotified: []string{EventOrderCreated, EventOrderExpired},
		},
		{
			name: "buyer cancels before capture",
			arrange: func(h *harness) func(*testing.T) {
				c := h.updateAt(time.Hour, UpdateCancel, "", cancel)
				return func(t *testing.T) { assertOrder(t, c, models.StatusCancelled) }
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusCancelled,
			wantCalls:    then(authorized, "ReleaseStock", "VoidAuthorization", "RecordStatus:cancelled"),
			wantNotified: []string{EventOrderCreated, EventOrderCancelled},
		},
		{
			name: "buyer cancels after capture",
			arrange: func(h *harness) func(*testing.T) {
				h.updateAt(time.Hour, UpdateAccept, "", accept)
				c := h.updateAt(2*time.Hour, UpdateCancel, "", cancel)
				return func(t *testing.T) {
					// The cancel answers at once; the refund follows in the
					// background and the workflow ends once it is done.
					assertOrder(t, c, models.StatusCancelled)
					assert.Equal(t, int64(2000), finalStatus(t, h).RefundedMinor)
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusCancelled,
			wantCalls: then(authorized, "CapturePayment", "RecordStatus:accepted",
				"ReleaseStock", "CountRefund", "CreateRefund", "RecordRefund:succeeded", "RecordStatus:cancelled"),
			wantNotified: []string{EventOrderCreated, EventOrderCancelled, EventOrderRefunded},
		},
		{
			name: "capture fails",
			arrange: func(h *harness) func(*testing.T) {
				h.captureErr = failures.ToTemporal(models.Errorf(models.KindInvalid, "payment_intent_unexpected_state", "expired"))
				acc := h.updateAt(time.Hour, UpdateAccept, "", accept)
				return func(t *testing.T) {
					require.True(t, acc.completed)
					e := domainErr(t, acc.err)
					assert.Equal(t, models.KindPaymentDeclined, e.Kind)
					assert.Equal(t, "capture_failed", e.Code)
					final, _ := h.result()
					assert.Equal(t, "capture_failed", final.FailureCode)
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusPaymentFailed,
			wantCalls: then(authorized, "CapturePayment", "ReleaseStock", "VoidAuthorization",
				"RecordStatus:payment_failed"),
			wantNotified: []string{EventOrderCreated, EventOrderPaymentFailed},
		},
		{
			name: "ship before accept is refused",
			arrange: func(h *harness) func(*testing.T) {
				shp := h.updateAt(time.Hour, UpdateShip, "", ship)
				h.updateAt(2*time.Hour, UpdateCancel, "", cancel)
				return func(t *testing.T) { assertRejected(t, shp, models.KindConflict) }
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusCancelled,
			wantCalls:    then(authorized, "ReleaseStock", "VoidAuthorization", "RecordStatus:cancelled"),
			wantNotified: []string{EventOrderCreated, EventOrderCancelled},
		},
		{
			name: "ship without tracking is refused",
			arrange: func(h *harness) func(*testing.T) {
				h.updateAt(time.Hour, UpdateAccept, "", accept)
				bad := h.updateAt(2*time.Hour, UpdateShip, "", ShipInput{Actor: "merchant:mer_1", Carrier: "ups"})
				h.updateAt(3*time.Hour, UpdateShip, "", ship)
				h.updateAt(4*time.Hour, UpdateDeliver, "", deliver)
				return func(t *testing.T) { assertRejected(t, bad, models.KindInvalid) }
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusDelivered,
			wantCalls: happyPath, wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			name: "cancel after ship is refused",
			arrange: func(h *harness) func(*testing.T) {
				h.updateAt(time.Hour, UpdateAccept, "", accept)
				h.updateAt(2*time.Hour, UpdateShip, "", ship)
				c := h.updateAt(3*time.Hour, UpdateCancel, "", cancel)
				h.updateAt(4*time.Hour, UpdateDeliver, "", deliver)
				return func(t *testing.T) { assertRejected(t, c, models.KindConflict) }
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusDelivered,
			wantCalls: happyPath, wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			name: "repeated accept and ship are idempotent",
			arrange: func(h *harness) func(*testing.T) {
				h.updateAt(time.Hour, UpdateAccept, "", accept)
				acc2 := h.updateAt(90*time.Minute, UpdateAccept, "", accept)
				h.updateAt(2*time.Hour, UpdateShip, "", ship)
				shp2 := h.updateAt(3*time.Hour, UpdateShip, "", ship)
				other := h.updateAt(3*time.Hour+time.Minute, UpdateShip, "",
					ShipInput{Actor: "merchant:mer_1", Carrier: "ups", TrackingNumber: "OTHER"})
				h.updateAt(4*time.Hour, UpdateDeliver, "", deliver)
				return func(t *testing.T) {
					assertOrder(t, acc2, models.StatusAccepted)
					assertOrder(t, shp2, models.StatusShipped)
					assertRejected(t, other, models.KindConflict)
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusDelivered,
			wantCalls: happyPath, wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			// The test environment caps unlimited retries at 10 attempts (about 43
			// minutes of this backoff), so "forever" ends there; delivery comes
			// first, so the workflow must still be waiting for the notification.
			name: "notification failing on every attempt does not fail the purchase",
			arrange: func(h *harness) func(*testing.T) {
				// Before leanStoreOutbox the workflow sent its events
				// itself (the dispatcher's retries: activities' tests).
				h.startedWithActivityOutbox()
				h.notifyErr = errors.New("merchant endpoint down")
				h.updateAt(time.Minute, UpdateAccept, "", accept)
				h.updateAt(2*time.Minute, UpdateShip, "", ship)
				h.updateAt(3*time.Minute, UpdateDeliver, "", deliver)
				start := h.env.Now()
				return func(t *testing.T) {
					assert.GreaterOrEqual(t, h.notifyAttempts, 10, "retried with backoff")
					assert.GreaterOrEqual(t, h.env.Now().Sub(start), 40*time.Minute,
						"the workflow waits for the outstanding notification before returning")
				}
			},
			wantPay: models.StatusAuthorized, wantStatus: models.StatusDelivered,
			wantCalls: happyPath, wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			name: "3-D Secure completed",
			arrange: func(h *harness) func(*testing.T) {
				h.intent.Status, h.intent.ClientSecret = payments.IntentRequiresAction, "pi_1_secret_x"
				h.env.RegisterDelayedCallback(func() {
					h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_other", Status: payments.IntentCanceled})
					h.setRemote(payments.IntentRequiresCapture)
					h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_1", Status: payments.IntentRequiresCapture})
				}, 2*time.Minute)
				h.updateAt(time.Hour, UpdateAccept, "", accept)
				h.updateAt(2*time.Hour, UpdateShip, "", ship)
				h.updateAt(3*time.Hour, UpdateDeliver, "", deliver)
				return func(t *testing.T) {
					assert.Equal(t, "pi_1_secret_x", payResult(t, h).ClientSecret)
				}
			},
			wantPay: models.StatusRequiresAction, wantStatus: models.StatusDelivered,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:requires_action",
				"RecordStatus:authorized", "CapturePayment", "RecordStatus:accepted", "RecordStatus:shipped",
				"RecordStatus:delivered"},
			wantNotified: []string{EventOrderCreated, EventOrderDelivered},
		},
		{
			name: "3-D Secure never completed",
			arrange: func(h *harness) func(*testing.T) {
				h.intent.Status, h.intent.ClientSecret = payments.IntentRequiresAction, "pi_1_secret_x"
				start := h.env.Now()
				return func(t *testing.T) {
					assert.GreaterOrEqual(t, h.env.Now().Sub(start), PaymentActionTimeout)
				}
			},
			wantPay: models.StatusRequiresAction, wantStatus: models.StatusExpired,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:requires_action",
				"ReleaseStock", "VoidAuthorization", "RecordStatus:expired"},
		},
		{
			name: "3-D Secure failed",
			arrange: func(h *harness) func(*testing.T) {
				h.intent.Status = payments.IntentRequiresAction
				h.env.RegisterDelayedCallback(func() {
					h.setRemote(payments.IntentRequiresPaymentMethod)
					h.env.SignalWorkflow(SignalPaymentIntent, PaymentIntentSignal{IntentID: "pi_1", Status: payments.IntentRequiresPaymentMethod})
				}, time.Minute)
				return nil
			},
			wantPay: models.StatusRequiresAction, wantStatus: models.StatusPaymentFailed,
			wantCalls: []string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:requires_action",
				"ReleaseStock", "VoidAuthorization", "RecordStatus:payment_failed"},
		},
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := newHarness(t)
			check := sc.arrange(h)
			h.run(testInput())

			final, err := h.result()
			require.NoError(t, err)
			assert.Equal(t, sc.wantStatus, final.Status)
			assert.Equal(t, sc.wantPay, payResult(t, h).Status)
			calls, notified, stored := h.snapshot()
			if sc.wantCalls != nil {
				assert.Equal(t, endingOrder(sc.wantCalls), endingOrder(calls))
			}
			assert.Equal(t, sc.wantNotified, notified)
			if sc.wantStatus != models.StatusInvalid {
				assert.Equal(t, final.Status, stored.Status, "read model matches the workflow")
			}
			h.mu.Lock()
			reserved := h.reserved
			h.mu.Unlock()
			assert.Equal(t, sc.wantStatus == models.StatusDelivered, reserved, "stock stays taken only when delivered")
			if check != nil {
				check(t)
			}
		})
	}
}

func TestPurchaseWorkflowCancelled(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Hour)
	h.run(testInput())

	_, err := h.result()
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled)
	calls, _, stored := h.snapshot()
	assert.Equal(t, endingOrder([]string{"ValidateOrder", "ReserveStock", "AuthorizePayment", "RecordStatus:authorized",
		"ReleaseStock", "VoidAuthorization", "RecordStatus:cancelled"}), endingOrder(calls))
	assert.Equal(t, models.StatusCancelled, stored.Status)
}

func TestPurchaseWorkflowCancelledAfterShipKeepsMoney(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Hour, UpdateAccept, "", accept)
	h.updateAt(2*time.Hour, UpdateShip, "", ship)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 3*time.Hour)
	h.run(testInput())

	calls, _, stored := h.snapshot()
	assert.NotContains(t, calls, "CreateRefund")
	assert.NotContains(t, calls, "ReleaseStock")
	assert.Equal(t, models.StatusShipped, stored.Status)
}

func payResult(t *testing.T, h *harness) PayResult {
	t.Helper()
	require.True(t, h.pay.completed, "pay update completed")
	require.NoError(t, h.pay.err)
	r, ok := h.pay.result.(PayResult)
	require.True(t, ok, "pay answers a PayResult, got %T", h.pay.result)
	return r
}

func queryStatus(t *testing.T, h *harness) models.OrderStatus {
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var o models.Order
	require.NoError(t, v.Get(&o))
	return o.Status
}

func assertOrder(t *testing.T, u *updateOutcome, want models.OrderStatus) models.Order {
	t.Helper()
	require.True(t, u.accepted, "update accepted (rejected: %v)", u.rejected)
	require.True(t, u.completed)
	require.NoError(t, u.err)
	o, ok := u.result.(models.Order)
	require.True(t, ok, "update answers a models.Order, got %T", u.result)
	assert.Equal(t, want, o.Status)
	return o
}

func assertRejected(t *testing.T, u *updateOutcome, kind models.Kind) {
	t.Helper()
	require.False(t, u.accepted, "update should have been refused by its validator")
	require.Error(t, u.rejected)
	assert.Equal(t, kind, domainErr(t, u.rejected).Kind)
}

func domainErr(t *testing.T, err error) *models.Error {
	t.Helper()
	var e *models.Error
	require.ErrorAs(t, failures.FromTemporal(err), &e)
	return e
}

// The store staying unreachable through every attempt of the reservation,
// local and durable (an hour), ends the purchase payment_failed with
// store_unavailable: the stock an attempt may have taken goes back, nothing
// is charged, the pay update answers that outcome and the workflow completes,
// so a retry with the same key reads the truth.
func TestPurchaseWorkflowStoreDownGivesUpWithATerminalStatus(t *testing.T) {
	h := newHarness(t)
	h.reserveErr = failures.ToTemporal(models.Errorf(models.KindUnavailable, "db_down", "database unreachable"))
	h.run(testInput())

	o, err := h.result()
	require.NoError(t, err)
	assert.Equal(t, models.StatusPaymentFailed, o.Status)
	assert.Equal(t, codeStoreUnavailable, o.FailureCode)
	calls, _, stored := h.snapshot()
	assert.NotContains(t, calls, "AuthorizePayment")
	assert.Contains(t, calls, "ReleaseStock")
	assert.Equal(t, models.StatusPaymentFailed, stored.Status, "the terminal status reached the store")
	require.True(t, h.pay.completed)
	require.NoError(t, h.pay.err)
	assert.Equal(t, models.StatusPaymentFailed, h.pay.result.(PayResult).Status)
}

// A store outage shorter than the durable retries only delays the purchase:
// the reservation succeeds on a later attempt and the order is authorized.
func TestPurchaseWorkflowRidesOutAStoreOutage(t *testing.T) {
	h := newHarness(t)
	h.reserveFailures = 12 // the five local attempts and several durable ones
	h.reserveErr = failures.ToTemporal(models.Errorf(models.KindUnavailable, "db_down", "database unreachable"))
	h.pay = h.updateAt(0, UpdatePay, PayUpdateID)
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 24*time.Hour)
	h.env.ExecuteWorkflow(PurchaseWorkflow, testInput())

	require.True(t, h.pay.completed)
	require.NoError(t, h.pay.err)
	assert.Equal(t, models.StatusAuthorized, h.pay.result.(PayResult).Status)
	calls, _, _ := h.snapshot()
	assert.Equal(t, 1, countOf(calls, "AuthorizePayment"))
}

func countOf(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}
