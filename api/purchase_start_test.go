package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/workflows"
)

// tableCounts counts the statements a store runs, by table.
type tableCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func countTables(t *testing.T, st *store.Store) *tableCounts {
	t.Helper()
	tc := &tableCounts{m: map[string]int{}}
	count := func(tx *gorm.DB) {
		tc.mu.Lock()
		tc.m[tx.Statement.Table]++
		tc.mu.Unlock()
	}
	cb := st.DB().Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:count", count),
		cb.Create().After("gorm:create").Register("test:count", count),
		cb.Update().After("gorm:update").Register("test:count", count),
		cb.Delete().After("gorm:delete").Register("test:count", count),
		cb.Row().After("gorm:row").Register("test:count", count),
		cb.Raw().After("gorm:raw").Register("test:count", count),
	} {
		require.NoError(t, err)
	}
	return tc
}

// take returns the counts since the last take.
func (tc *tableCounts) take() map[string]int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	m := tc.m
	tc.m = map[string]int{}
	return m
}

// startedWith records what each update-with-start was started with, and
// answers it with res.
func (e *env) startedWith(res workflows.PayResult) func() (client.StartWorkflowOptions, workflows.PurchaseInput) {
	var mu sync.Mutex
	var opts client.StartWorkflowOptions
	var in workflows.PurchaseInput
	e.temporal.On("NewWithStartWorkflowOperation", mock.Anything, workflows.PurchaseWorkflowName, mock.Anything).
		Run(func(args mock.Arguments) {
			mu.Lock()
			defer mu.Unlock()
			opts, in = args.Get(0).(client.StartWorkflowOptions), args.Get(2).(workflows.PurchaseInput)
		}).Return(fakeStartOp{})
	e.temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(fakeHandle{result: res}, nil)
	return func() (client.StartWorkflowOptions, workflows.PurchaseInput) {
		mu.Lock()
		defer mu.Unlock()
		return opts, in
	}
}

const berlin = `"shipping_address":{"name":"Ada","line1":"1 Str","city":"Berlin","postal_code":"10115","country":"DE"},"payment_method":"pm_card_visa"`

// A first purchase reads the product with its catalogue entry, its variants,
// the merchant's policies and its connected account once each, claims its
// key, looks for the buyer's profile, and reads no order: none can exist for a key claimed just now. Its
// workflow starts with the search attributes its validation then gives the
// order. A retry of it, once its order exists, gets the same answer even
// though the product is no longer for sale.
func TestFirstPurchaseReadsEachRowOnceAndStartsWithTheOrdersAttributes(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	counts := countTables(t, e.st)
	started := e.startedWith(workflows.PayResult{Status: models.StatusAuthorized, Amount: 2990, Currency: "eur"})
	body := fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":1,%s}`, d.ID, d.Variants[0].ID, berlin)
	buy := func() *testResponse {
		w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: body, auth: bearerOf(e.buyerToken(buyerA)),
			headers: map[string]string{"Idempotency-Key": "first-1"}})
		return &testResponse{code: w.Code, body: w.Body.String()}
	}

	first := buy()
	require.Equal(t, http.StatusCreated, first.code, first.body)
	require.Equal(t, map[string]int{
		"products": 1, "product_variants": 1, "merchant_policies": 1, // a product's catalogue entry is read with it
		"merchant_stripe_accounts": 1, "idempotency_keys": 1,
		"buyer_profiles": 1, // saving details (the default) keeps a profile the buyer has
	}, counts.take())

	opts, in := started()
	o, err := (&activities.Activities{Store: e.st}).ValidateOrder(context.Background(), activities.ValidateInput{
		OrderID: in.OrderID, BuyerID: in.BuyerID, ProductID: in.ProductID, Quantity: in.Quantity, Shipping: in.Shipping,
		PaymentMethod: in.PaymentMethod, VariantID: in.VariantID, ShippingRate: in.ShippingRate, QuoteID: in.QuoteID,
	})
	require.NoError(t, err)
	require.EqualValues(t, 2500+490, o.AmountMinor, "price and shipping, tax included in Germany")
	attrs := opts.TypedSearchAttributes
	status, _ := attrs.GetKeyword(workflows.OrderStatusKey)
	merchantID, _ := attrs.GetKeyword(workflows.MerchantIDKey)
	amount, _ := attrs.GetInt64(workflows.AmountMinorKey)
	currency, _ := attrs.GetKeyword(workflows.CurrencyKey)
	require.Equal(t, []any{string(o.Status), o.MerchantID, o.AmountMinor, o.Currency},
		[]any{status, merchantID, amount, currency}, "the attributes the workflow's validation gives the order")
	require.Equal(t, 4, attrs.Size())

	e.merchantDo(http.MethodPatch, "/v1/merchant/products/"+d.ID, `{"active":false}`)
	counts.take()
	retry := buy()
	require.Equal(t, first, retry, "a retry of a placed order answers as the first try did")
	require.Positive(t, counts.take()["orders"], "a retry looks for its order")
}

// A retry of a first try that claimed its key but started nothing (here
// Temporal was down) finds no order, so it is priced again: what changed
// since is refused with nothing started.
func TestRetryOfAPurchaseThatStartedNothingIsPricedAgain(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	e.expectPay(nil, serviceerror.NewUnavailable("connection refused")).Once()
	body := fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":1,%s}`, d.ID, d.Variants[0].ID, berlin)
	buy := func() *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodPost, path: "/v1/purchases", body: body, auth: bearerOf(e.buyerToken(buyerA)),
			headers: map[string]string{"Idempotency-Key": "down-1"}})
	}
	requireError(t, buy(), http.StatusServiceUnavailable, "unavailable")
	e.merchantDo(http.MethodPatch, fmt.Sprintf("/v1/merchant/products/%s/variants/%s", d.ID, d.Variants[0].ID), `{"active":false}`)
	requireError(t, buy(), http.StatusBadRequest, "variant_inactive")
}

type testResponse struct {
	code int
	body string
}

// Without a catalogue nothing is priced before the workflow: it starts with
// the status and the merchant, and validation adds the amount.
func TestPurchaseUnpricedStartsWithStatusAndMerchant(t *testing.T) {
	e := newEnv(t)
	started := e.startedWith(workflows.PayResult{Status: models.StatusAuthorized, Amount: 3000, Currency: "usd"})
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "unpriced-1"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	opts, _ := started()
	attrs := opts.TypedSearchAttributes
	status, _ := attrs.GetKeyword(workflows.OrderStatusKey)
	merchantID, _ := attrs.GetKeyword(workflows.MerchantIDKey)
	_, hasAmount := attrs.GetInt64(workflows.AmountMinorKey)
	require.Equal(t, string(models.StatusPending), status)
	require.Equal(t, merchantA, merchantID)
	require.False(t, hasAmount)
}

func TestAcceptingMerchantsAreTrustedForTheRecheckBoundOnly(t *testing.T) {
	var m acceptingMerchants
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	require.False(t, m.recent("mer_a", t0), "nothing read yet")
	m.remember("mer_a", t0)
	require.True(t, m.recent("mer_a", t0.Add(acceptingRecheck-time.Millisecond)))
	require.False(t, m.recent("mer_a", t0.Add(acceptingRecheck)), "read again once the bound has passed")
	require.False(t, m.recent("mer_b", t0))

	m.remember("mer_a", t0)
	m.forget("mer_a")
	require.False(t, m.recent("mer_a", t0), "an account change applied here is seen at once")

	for i := range acceptingMax {
		m.remember(fmt.Sprintf("mer_%d", i), t0)
	}
	m.remember("mer_full", t0)
	require.False(t, m.recent("mer_full", t0), "full of live entries: the new one is read every time")
	later := t0.Add(acceptingRecheck)
	m.remember("mer_full", later)
	require.True(t, m.recent("mer_full", later), "expired entries make room")
	require.LessOrEqual(t, len(m.until), acceptingMax)
}
