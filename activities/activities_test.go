package activities

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

type deps struct {
	store    *fakeStore
	payments *fakePayments
	notifier *fakeNotifier
}

func newEnv(t *testing.T) (*testsuite.TestActivityEnvironment, *Activities, deps) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	d := deps{store: newFakeStore(), payments: &fakePayments{}, notifier: &fakeNotifier{}}
	a := &Activities{Store: d.store, Payments: d.payments, Notifier: d.notifier,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.RegisterActivity(a)
	return env, a, d
}

// assertKind checks err crossed Temporal as a typed application error of
// the given kind and code, retryable only when the kind is.
func assertKind(t *testing.T, err error, kind models.Kind, code string) {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	var e *models.Error
	require.ErrorAs(t, failures.FromTemporal(err), &e)
	assert.Equal(t, kind, e.Kind)
	if code != "" {
		assert.Equal(t, code, e.Code)
	}
	wantRetry := kind == models.KindUnavailable || kind == models.KindInternal
	assert.Equal(t, !wantRetry, app.NonRetryable(), "non-retryable")
}

func validInput() ValidateInput {
	return ValidateInput{
		OrderID: "ord_1", BuyerID: "buyer_1", ProductID: "prod_mug", Quantity: 3,
		Shipping:      models.Address{Name: " Ada ", Line1: "1 Main St", City: "Paris", PostalCode: "75001", Country: "fr"},
		PaymentMethod: "pm_card_visa",
	}
}

func TestValidateOrder(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*ValidateInput, deps)
		wantKind models.Kind // "" means success
		wantCode string
	}{
		{name: "valid order", edit: func(*ValidateInput, deps) {}},
		{name: "unknown product", edit: func(in *ValidateInput, _ deps) { in.ProductID = "prod_nope" },
			wantKind: models.KindNotFound, wantCode: "not_found"},
		{name: "inactive product", edit: func(in *ValidateInput, _ deps) { in.ProductID = "prod_old" },
			wantKind: models.KindInvalid, wantCode: "product_inactive"},
		{name: "inactive merchant", edit: func(in *ValidateInput, _ deps) { in.ProductID = "prod_gone" },
			wantKind: models.KindInvalid, wantCode: "merchant_inactive"},
		{name: "above the product's limit", edit: func(in *ValidateInput, _ deps) { in.Quantity = 4 },
			wantKind: models.KindInvalid, wantCode: "quantity_limit"},
		{name: "zero quantity", edit: func(in *ValidateInput, _ deps) { in.Quantity = 0 },
			wantKind: models.KindInvalid, wantCode: "invalid_quantity"},
		{name: "address without city", edit: func(in *ValidateInput, _ deps) { in.Shipping.City = " " },
			wantKind: models.KindInvalid, wantCode: "invalid_address"},
		{name: "card number instead of a payment method", edit: func(in *ValidateInput, _ deps) { in.PaymentMethod = "4242424242424242" },
			wantKind: models.KindInvalid, wantCode: "invalid_payment_method"},
		{name: "missing buyer", edit: func(in *ValidateInput, _ deps) { in.BuyerID = "" },
			wantKind: models.KindInvalid, wantCode: "invalid_request"},
		{name: "order id taken by another purchase", edit: func(in *ValidateInput, d deps) {
			d.store.orders[in.OrderID] = models.Order{ID: in.OrderID, BuyerID: "someone_else", ProductID: in.ProductID, Quantity: in.Quantity}
		}, wantKind: models.KindConflict, wantCode: "order_exists"},
		{name: "store down is retried", edit: func(_ *ValidateInput, d deps) {
			d.store.err = models.Errorf(models.KindUnavailable, "db_down", "database unreachable")
		}, wantKind: models.KindUnavailable, wantCode: "db_down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			in := validInput()
			tt.edit(&in, d)
			v, err := env.ExecuteActivity(a.ValidateOrder, in)
			if tt.wantKind != "" {
				assertKind(t, err, tt.wantKind, tt.wantCode)
				return
			}
			require.NoError(t, err)
			var o models.Order
			require.NoError(t, v.Get(&o))
			assert.Equal(t, models.StatusPending, o.Status)
			assert.Equal(t, "mer_1", o.MerchantID)
			assert.Equal(t, int64(1250), o.UnitPriceMinor)
			assert.Equal(t, int64(3750), o.AmountMinor)
			assert.Equal(t, "usd", o.Currency)
			assert.Equal(t, "Ada", o.Shipping.Name)
			assert.Equal(t, "FR", o.Shipping.Country)
			assert.Equal(t, o, d.store.orders["ord_1"], "the order row was created")
		})
	}
}

// A retried validation returns the order as first created even though the
// catalogue changed meanwhile: the price snapshot is taken once.
func TestValidateOrderIsIdempotent(t *testing.T) {
	env, a, d := newEnv(t)
	_, err := env.ExecuteActivity(a.ValidateOrder, validInput())
	require.NoError(t, err)
	p := d.store.products["prod_mug"]
	p.PriceMinor, p.Active = 9999, false
	d.store.products["prod_mug"] = p

	v, err := env.ExecuteActivity(a.ValidateOrder, validInput())
	require.NoError(t, err)
	var o models.Order
	require.NoError(t, v.Get(&o))
	assert.Equal(t, int64(3750), o.AmountMinor)
}

func TestStockActivities(t *testing.T) {
	env, a, d := newEnv(t)
	_, err := env.ExecuteActivity(a.ReserveStock, "ord_1", "prod_mug", 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"ord_1"}, d.store.reserved)

	d.store.err = models.Errorf(models.KindSoldOut, "sold_out", "none left")
	_, err = env.ExecuteActivity(a.ReserveStock, "ord_2", "prod_mug", 2)
	assertKind(t, err, models.KindSoldOut, "sold_out")

	d.store.err = errors.New("connection reset")
	_, err = env.ExecuteActivity(a.ReleaseStock, "ord_1")
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.False(t, app.NonRetryable(), "an unclassified error is retried")
}

func TestPaymentActivities(t *testing.T) {
	req := payments.AuthorizeRequest{OrderID: "ord_1", Amount: models.Money{Amount: 3750, Currency: "usd"}, PaymentMethod: "pm_card_visa"}
	run := map[string]func(*testsuite.TestActivityEnvironment, *Activities) error{
		"AuthorizePayment": func(e *testsuite.TestActivityEnvironment, a *Activities) error {
			_, err := e.ExecuteActivity(a.AuthorizePayment, req)
			return err
		},
		"CapturePayment": func(e *testsuite.TestActivityEnvironment, a *Activities) error {
			_, err := e.ExecuteActivity(a.CapturePayment, "ord_1", "pi_1", int32(0))
			return err
		},
		"VoidAuthorization": func(e *testsuite.TestActivityEnvironment, a *Activities) error {
			_, err := e.ExecuteActivity(a.VoidAuthorization, "ord_1", "pi_1")
			return err
		},
	}
	tests := []struct {
		activity string
		err      error
		wantKind models.Kind
		wantCode string
		wantCall string
	}{
		{activity: "AuthorizePayment", wantCall: "Authorize:ord_1"},
		{activity: "AuthorizePayment", err: models.Errorf(models.KindPaymentDeclined, "insufficient_funds", "declined"),
			wantKind: models.KindPaymentDeclined, wantCode: "insufficient_funds", wantCall: "Authorize:ord_1"},
		{activity: "AuthorizePayment", err: models.Errorf(models.KindUnavailable, "stripe_unavailable", "503"),
			wantKind: models.KindUnavailable, wantCode: "stripe_unavailable", wantCall: "Authorize:ord_1"},
		{activity: "CapturePayment", wantCall: "Capture:pi_1"},
		{activity: "CapturePayment", err: models.Invalid("payment_intent_unexpected_state", "expired"),
			wantKind: models.KindInvalid, wantCode: "payment_intent_unexpected_state", wantCall: "Capture:pi_1"},
		{activity: "VoidAuthorization", wantCall: "Cancel:pi_1"},
		{activity: "VoidAuthorization", err: models.Errorf(models.KindUnavailable, "stripe_unavailable", "timeout"),
			wantKind: models.KindUnavailable, wantCall: "Cancel:pi_1"},
	}
	for _, tt := range tests {
		t.Run(tt.activity+"/"+string(tt.wantKind), func(t *testing.T) {
			env, a, d := newEnv(t)
			d.payments.err = tt.err
			d.payments.intent = payments.Intent{ID: "pi_1", Status: payments.IntentRequiresCapture}
			err := run[tt.activity](env, a)
			assert.Equal(t, []string{tt.wantCall}, d.payments.calls)
			if tt.activity != "AuthorizePayment" {
				assert.Equal(t, []int32{1}, d.payments.attempts, "the activity's attempt scopes the Stripe key")
			}
			if tt.wantKind == "" {
				require.NoError(t, err)
				return
			}
			assertKind(t, err, tt.wantKind, tt.wantCode)
		})
	}
}

// AuthorizeAndRecord records the authorization it got; a record that fails
// leaves the authorization standing, for the workflow to record.
func TestAuthorizeAndRecord(t *testing.T) {
	req := payments.AuthorizeRequest{OrderID: "ord_1", Amount: models.Money{Amount: 3750, Currency: "usd"}, PaymentMethod: "pm_card_visa"}
	for _, tc := range []struct {
		name     string
		status   string
		storeErr error
		recorded bool
	}{
		{name: "held", status: payments.IntentRequiresCapture, recorded: true},
		{name: "held, the store down", status: payments.IntentRequiresCapture, storeErr: errors.New("connection refused")},
		{name: "3-D Secure", status: payments.IntentRequiresAction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			d.store.orders["ord_1"] = models.Order{ID: "ord_1", Status: models.StatusPending}
			d.store.err = tc.storeErr
			d.payments.intent = payments.Intent{ID: "pi_1", Status: tc.status}
			v, err := env.ExecuteActivity(a.AuthorizeAndRecord, req)
			require.NoError(t, err)
			var auth Authorization
			require.NoError(t, v.Get(&auth))
			assert.Equal(t, "pi_1", auth.Intent.ID)
			assert.Equal(t, tc.recorded, auth.Order != nil)
			want := models.StatusPending
			if tc.recorded {
				want = models.StatusAuthorized
				assert.Equal(t, models.StatusAuthorized, auth.Order.Status)
			}
			assert.Equal(t, want, d.store.orders["ord_1"].Status)
		})
	}
}

// CaptureAndRecord records the acceptance with the captured amount (the
// order's, when Stripe's answer does not say); the attempts it is told came
// before scope its Stripe key.
func TestCaptureAndRecord(t *testing.T) {
	env, a, d := newEnv(t)
	d.store.orders["ord_1"] = models.Order{ID: "ord_1", Status: models.StatusAuthorized}
	d.payments.intent = payments.Intent{ID: "pi_1", Status: payments.IntentSucceeded}
	v, err := env.ExecuteActivity(a.CaptureAndRecord, CaptureInput{OrderID: "ord_1", IntentID: "pi_1",
		Actor: "merchant:mer_1", AmountMinor: 3750, AttemptsBefore: 2})
	require.NoError(t, err)
	var c Capture
	require.NoError(t, v.Get(&c))
	require.NotNil(t, c.Order)
	assert.Equal(t, models.StatusAccepted, c.Order.Status)
	assert.Equal(t, []int32{3}, d.payments.attempts)
	change := AcceptedChange(CaptureInput{OrderID: "ord_1", IntentID: "pi_1", AmountMinor: 3750}, c.Intent)
	assert.Equal(t, int64(3750), *change.CapturedMinor)
}

func TestRecordStatus(t *testing.T) {
	env, a, d := newEnv(t)
	d.store.orders["ord_1"] = models.Order{ID: "ord_1", Status: models.StatusPending}

	v, err := env.ExecuteActivity(a.RecordStatus, models.StatusChange{OrderID: "ord_1", To: models.StatusAuthorized})
	require.NoError(t, err)
	var o models.Order
	require.NoError(t, v.Get(&o))
	assert.Equal(t, models.StatusAuthorized, o.Status)

	_, err = env.ExecuteActivity(a.RecordStatus, models.StatusChange{OrderID: "ord_1", To: models.StatusDelivered})
	assertKind(t, err, models.KindConflict, "invalid_transition")
}

func TestNotifyMerchant(t *testing.T) {
	order := models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusAuthorized,
		Shipping: models.Address{Name: "Ada", Line1: "1 Main St", City: "Paris", PostalCode: "75001", Country: "FR"}}
	tests := []struct {
		name     string
		merchant string
		sendErr  error
		storeErr error
		wantSent bool
		wantErr  bool
	}{
		{name: "sends a signed event", merchant: "mer_1", wantSent: true},
		{name: "merchant without webhook url is skipped", merchant: "mer_quiet"},
		{name: "endpoint failure is retried", merchant: "mer_1", sendErr: errors.New("502 from merchant"), wantSent: true, wantErr: true},
		{name: "unknown order", merchant: "mer_1", storeErr: models.NotFound("order"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, a, d := newEnv(t)
			o := order
			o.MerchantID = tt.merchant
			d.store.orders[o.ID] = o
			d.store.err = tt.storeErr
			d.notifier.err = tt.sendErr

			_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.created"})
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			if !tt.wantSent {
				assert.Empty(t, d.notifier.sent)
				return
			}
			require.Len(t, d.notifier.sent, 1)
			s := d.notifier.sent[0]
			assert.Equal(t, "https://mugs.example/hooks", s.url)
			assert.Equal(t, "whsec_1", s.secret)
			assert.Equal(t, "evt_ord_1_order.created", s.ev.ID, "stable across retries")
			assert.Equal(t, "order.created", s.ev.Type)
			assert.Equal(t, NewWebhookOrder(o), s.ev.Data, "the merchant gets the order, shipping address included")
		})
	}
}

// An outbox event carries the order as it was when the event happened, its
// sequence number and its time, whatever the stored order says by delivery.
func TestNotifyMerchantSendsTheSnapshot(t *testing.T) {
	env, a, d := newEnv(t)
	stored := models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusCancelled}
	d.store.orders[stored.ID] = stored
	then := models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusAuthorized, AmountMinor: 2000, Currency: "usd"}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

	_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.created",
		Sequence: 1, Order: &then, OccurredAt: at})
	require.NoError(t, err)
	require.Len(t, d.notifier.sent, 1)
	ev := d.notifier.sent[0].ev
	assert.Equal(t, NewWebhookOrder(then), ev.Data)
	assert.Equal(t, 1, ev.Sequence)
	assert.Equal(t, at.Unix(), ev.Created)
}
