package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// purchaseBody builds a valid purchase body, edited by f.
func purchaseBody(t *testing.T, f func(m map[string]any)) string {
	t.Helper()
	m := map[string]any{
		"product_id": productID,
		"quantity":   2,
		"shipping_address": map[string]any{
			"name": "Ada Lovelace", "line1": "1 Main St", "line2": "Flat 2", "city": "London",
			"region": "", "postal_code": "N1 1AA", "country": "gb",
		},
		"payment_method": "pm_card_visa",
	}
	if f != nil {
		f(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func withoutAddressField(field string) func(map[string]any) {
	return func(m map[string]any) { delete(m["shipping_address"].(map[string]any), field) }
}

func TestPurchaseRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	valid := purchaseBody(t, nil)
	tok := bearerOf(e.buyerToken(buyerA))
	expired, err := jwtWith(t, "HS256", map[string]any{"sub": buyerA, "exp": time.Now().Add(-time.Hour).Unix()})
	require.NoError(t, err)
	noExp, err := jwtWith(t, "HS256", map[string]any{"sub": buyerA})
	require.NoError(t, err)
	algNone, err := jwtWith(t, "none", map[string]any{"sub": buyerA, "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	hs512, err := jwtWith(t, "HS512", map[string]any{"sub": buyerA, "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	otherSecret, err := MintBuyerToken([]byte("another-secret-another-secret-00"), buyerA, time.Hour)
	require.NoError(t, err)

	cases := []struct {
		name    string
		body    string
		auth    string
		headers map[string]string
		status  int
		code    string
	}{
		{"malformed json", `{"product_id":`, tok, nil, 400, codeMalformedJSON},
		{"not an object", `[1,2]`, tok, nil, 400, codeMalformedJSON},
		{"null body", `null`, tok, nil, 400, codeMalformedJSON},
		{"two objects", valid + valid, tok, nil, 400, codeMalformedJSON},
		{"unknown field", purchaseBody(t, func(m map[string]any) { m["coupon"] = "FREE" }), tok, nil, 400, codeUnknownField},
		{"unknown address field", purchaseBody(t, func(m map[string]any) {
			m["shipping_address"].(map[string]any)["phone"] = "1"
		}), tok, nil, 400, codeUnknownField},
		{"quantity as string", purchaseBody(t, func(m map[string]any) { m["quantity"] = "2" }), tok, nil, 400, codeMalformedJSON},
		{"quantity overflows", strings.Replace(valid, `"quantity":2`, `"quantity":99999999999999999999999`, 1), tok, nil, 400, codeMalformedJSON},
		{"wrong content type", valid, tok, map[string]string{"Content-Type": "text/plain"}, 415, codeUnsupportedMediaType},
		{"form content type", valid, tok, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, codeUnsupportedMediaType},
		{"latin1 charset", valid, tok, map[string]string{"Content-Type": "application/json; charset=latin1"}, 415, codeUnsupportedMediaType},
		{"oversized body", `{"product_id":"` + strings.Repeat("a", 70<<10) + `"}`, tok, nil, 413, codeBodyTooLarge},
		{"empty body", "", tok, nil, 400, codeMalformedJSON},
		{"quantity 0", purchaseBody(t, func(m map[string]any) { m["quantity"] = 0 }), tok, nil, 400, "invalid_quantity"},
		{"quantity -1", purchaseBody(t, func(m map[string]any) { m["quantity"] = -1 }), tok, nil, 400, "invalid_quantity"},
		{"quantity 11", purchaseBody(t, func(m map[string]any) { m["quantity"] = 11 }), tok, nil, 400, "invalid_quantity"},
		{"quantity above product limit", purchaseBody(t, func(m map[string]any) { m["quantity"] = 4 }), tok, nil, 400, "quantity_limit"},
		{"missing name", purchaseBody(t, withoutAddressField("name")), tok, nil, 400, "invalid_address"},
		{"missing line1", purchaseBody(t, withoutAddressField("line1")), tok, nil, 400, "invalid_address"},
		{"missing city", purchaseBody(t, withoutAddressField("city")), tok, nil, 400, "invalid_address"},
		{"missing postal_code", purchaseBody(t, withoutAddressField("postal_code")), tok, nil, 400, "invalid_address"},
		{"missing country", purchaseBody(t, withoutAddressField("country")), tok, nil, 400, "invalid_address"},
		{"blank name", purchaseBody(t, func(m map[string]any) { m["shipping_address"].(map[string]any)["name"] = "   " }), tok, nil, 400, "invalid_address"},
		{"bad country", purchaseBody(t, func(m map[string]any) { m["shipping_address"].(map[string]any)["country"] = "GBR" }), tok, nil, 400, "invalid_address"},
		{"missing address", purchaseBody(t, func(m map[string]any) { delete(m, "shipping_address") }), tok, nil, 400, "invalid_address"},
		{"card number as payment method", purchaseBody(t, func(m map[string]any) { m["payment_method"] = "4242424242424242" }), tok, nil, 400, "invalid_payment_method"},
		{"empty payment method", purchaseBody(t, func(m map[string]any) { m["payment_method"] = "" }), tok, nil, 400, "invalid_payment_method"},
		{"payment method with spaces", purchaseBody(t, func(m map[string]any) { m["payment_method"] = "pm_ x" }), tok, nil, 400, "invalid_payment_method"},
		{"bad product id", purchaseBody(t, func(m map[string]any) { m["product_id"] = "../../etc" }), tok, nil, 400, "invalid_product_id"},
		{"unknown product", purchaseBody(t, func(m map[string]any) { m["product_id"] = "prod_nope" }), tok, nil, 404, "not_found"},
		{"inactive product", purchaseBody(t, func(m map[string]any) { m["product_id"] = "prod_off" }), tok, nil, 409, codeProductUnavailable},
		{"missing idempotency key", valid, tok, map[string]string{"Idempotency-Key": ""}, 400, codeIdempotencyKeyRequired},
		{"idempotency key too long", valid, tok, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, 400, codeInvalidIdempotencyKey},
		{"idempotency key not printable", valid, tok, map[string]string{"Idempotency-Key": "k\u00e9y"}, 400, codeInvalidIdempotencyKey},
		{"missing token", valid, "", nil, 401, "unauthorized"},
		{"not a bearer", valid, "Basic YTpi", nil, 401, "unauthorized"},
		{"garbage token", valid, "Bearer not.a.jwt", nil, 401, "unauthorized"},
		{"expired token", valid, bearerOf(expired), nil, 401, "token_expired"},
		{"token without exp", valid, bearerOf(noExp), nil, 401, "unauthorized"},
		{"alg none", valid, bearerOf(algNone), nil, 401, "unauthorized"},
		{"alg HS512", valid, bearerOf(hs512), nil, 401, "unauthorized"},
		{"other secret", valid, bearerOf(otherSecret), nil, 401, "unauthorized"},
		{"merchant key", valid, bearerOf(keyA), nil, 401, "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{"Idempotency-Key": "key-" + tc.name}
			for k, v := range tc.headers {
				headers[k] = v
			}
			w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: tc.body, auth: tc.auth, headers: headers})
			requireError(t, w, tc.status, tc.code)
		})
	}
	// None of these may reach Temporal.
	e.temporal.AssertNotCalled(t, "UpdateWithStartWorkflow", mock.Anything, mock.Anything)
}

func TestPurchaseAnswersFromPayResult(t *testing.T) {
	cases := []struct {
		name   string
		result workflows.PayResult
		status int
		code   string // error code, "" when the answer is a success
		secret bool
	}{
		{"authorized", workflows.PayResult{Status: models.StatusAuthorized, Amount: 3000, Currency: "usd"}, 201, "", false},
		{"requires action", workflows.PayResult{Status: models.StatusRequiresAction, Amount: 3000, Currency: "usd",
			ClientSecret: "pi_1_secret_2"}, 201, "", true},
		{"declined", workflows.PayResult{Status: models.StatusPaymentFailed, Amount: 3000, Currency: "usd",
			FailureCode: "insufficient_funds", Message: "Your card has insufficient funds."}, 402, "insufficient_funds", false},
		{"declined without code", workflows.PayResult{Status: models.StatusPaymentFailed}, 402, "payment_declined", false},
		{"sold out", workflows.PayResult{Status: models.StatusSoldOut, Amount: 3000, Currency: "usd"}, 409, "sold_out", false},
		{"invalid", workflows.PayResult{Status: models.StatusInvalid, FailureCode: "merchant_inactive"}, 422, "merchant_inactive", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			res := tc.result
			res.OrderID = models.OrderIDFromIdempotencyKey(buyerA, "k1")
			e.expectPay(fakeHandle{result: res}, nil).Once()
			w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
				auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "k1"}})
			require.Equal(t, tc.status, w.Code, w.Body.String())
			m := decodeBody(t, w)
			require.Equal(t, res.OrderID, m["order_id"])
			require.Equal(t, string(res.Status), m["status"])
			require.Equal(t, "/v1/orders/"+res.OrderID, w.Header().Get("Location"))
			if tc.code == "" {
				require.NotContains(t, m, "error")
				require.EqualValues(t, res.Amount, m["amount"])
			} else {
				requireError(t, w, tc.status, tc.code)
			}
			if tc.secret {
				require.Equal(t, res.ClientSecret, m["client_secret"])
			} else {
				require.NotContains(t, m, "client_secret")
			}
		})
	}
}

func TestPurchaseStartsTheOrdersWorkflow(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AcceptTimeout = time.Hour })
	orderID := models.OrderIDFromIdempotencyKey(buyerA, "k-start")
	e.temporal.On("NewWithStartWorkflowOperation", mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return o.ID == workflows.WorkflowID(orderID) && o.TaskQueue == "checkout" &&
			o.WorkflowIDConflictPolicy.String() == "UseExisting" && o.WorkflowIDReusePolicy.String() == "RejectDuplicate"
	}), workflows.PurchaseWorkflowName, workflows.PurchaseInput{
		OrderID: orderID, BuyerID: buyerA, ProductID: productID, Quantity: 2, PaymentMethod: "pm_card_visa",
		// Normalised: trimmed, country upper-cased.
		Shipping: models.Address{Name: "Ada Lovelace", Line1: "1 Main St", Line2: "Flat 2", City: "London",
			PostalCode: "N1 1AA", Country: "GB"},
		AcceptTimeout: time.Hour,
		// A first purchase (the buyer has no profile) saves its details by default.
		SaveDetails: true,
		// Nothing priced it (no catalogue): the status and the merchant.
		Attributes: &workflows.OrderAttributes{Status: models.StatusPending, MerchantID: merchantA},
	}).Return(fakeStartOp{}).Once()
	e.temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).
		Return(fakeHandle{result: workflows.PayResult{OrderID: orderID, Status: models.StatusAuthorized}}, nil).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, func(m map[string]any) {
		m["shipping_address"].(map[string]any)["name"] = "  Ada Lovelace "
	}), auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "k-start"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

func TestPurchaseAnswersPendingWhenPayWaitRunsOut(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PayWait = 50 * time.Millisecond })
	e.expectPay(nil, nil).Run(func(args mock.Arguments) {
		<-args.Get(0).(context.Context).Done()
	}).Return(nil, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "slow"}})
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	m := decodeBody(t, w)
	require.Equal(t, "pending", m["status"])
	require.Equal(t, models.OrderIDFromIdempotencyKey(buyerA, "slow"), m["order_id"])
}

func TestPurchaseReusedKeyWithAnotherBodyIs422(t *testing.T) {
	e := newEnv(t)
	e.expectPay(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized}}, nil).Once()
	tok := bearerOf(e.buyerToken(buyerA))
	headers := map[string]string{"Idempotency-Key": "same"}
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil), auth: tok, headers: headers})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

	w = e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: tok, headers: headers,
		body: purchaseBody(t, func(m map[string]any) { m["quantity"] = 1 })})
	requireError(t, w, http.StatusUnprocessableEntity, codeIdempotencyKeyReused)

	// Another buyer may use the same key string: keys are scoped per buyer.
	e.expectPay(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized}}, nil).Once()
	w = e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: bearerOf(e.buyerToken(buyerB)), headers: headers,
		body: purchaseBody(t, func(m map[string]any) { m["quantity"] = 1 })})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	require.NotEqual(t, models.OrderIDFromIdempotencyKey(buyerA, "same"), decodeBody(t, w)["order_id"])
}

func TestPurchaseConcurrentRetriesGetOneOrderAndOneAnswer(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	e.expectPay(nil, nil).Run(func(args mock.Arguments) {
		o := args.Get(1).(client.UpdateWithStartWorkflowOptions)
		mu.Lock()
		seen[o.UpdateOptions.UpdateID] = true
		mu.Unlock()
	}).Return(fakeHandle{result: workflows.PayResult{OrderID: models.OrderIDFromIdempotencyKey(buyerA, "burst"),
		Status: models.StatusAuthorized, Amount: 3000, Currency: "usd"}}, nil)
	tok := bearerOf(e.buyerToken(buyerA))
	body := purchaseBody(t, nil)

	const n = 20
	answers := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: body, auth: tok,
				headers: map[string]string{"Idempotency-Key": "burst"}})
			codes[i], answers[i] = w.Code, w.Body.String()
		}()
	}
	wg.Wait()
	for i := range n {
		require.Equal(t, http.StatusCreated, codes[i], answers[i])
		require.Equal(t, answers[0], answers[i])
	}
	require.Len(t, e.store.claims, 1)
	require.Equal(t, map[string]bool{workflows.PayUpdateID: true}, seen)
}

func TestPurchaseRetriedAfterWorkflowClosed(t *testing.T) {
	orderID := models.OrderIDFromIdempotencyKey(buyerA, "old")
	closed := serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", "")

	t.Run("answers the recorded pay outcome", func(t *testing.T) {
		e := newEnv(t)
		e.expectPay(nil, closed).Once()
		e.temporal.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
			return o.WorkflowID == workflows.WorkflowID(orderID) && o.UpdateID == workflows.PayUpdateID
		})).Return(fakeHandle{result: workflows.PayResult{OrderID: orderID, Status: models.StatusAuthorized,
			Amount: 3000, Currency: "usd"}}, nil).Once()
		w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
			auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "old"}})
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		require.Equal(t, "authorized", decodeBody(t, w)["status"])
	})

	t.Run("falls back to the stored order", func(t *testing.T) {
		e := newEnv(t)
		// The product is gone by now: the retry must still find its order.
		delete(e.store.products, productID)
		e.store.putOrder(models.Order{ID: orderID, BuyerID: buyerA, MerchantID: merchantA, ProductID: productID,
			Status: models.StatusPaymentFailed, FailureCode: "card_declined", AmountMinor: 3000, Currency: "usd"})
		e.expectPay(nil, closed).Once()
		e.temporal.On("UpdateWorkflow", mock.Anything, mock.Anything).
			Return(nil, serviceerror.NewNotFound("workflow execution already completed")).Once()
		w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
			auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "old"}})
		requireError(t, w, http.StatusPaymentRequired, "card_declined")
		m := decodeBody(t, w)
		require.Equal(t, orderID, m["order_id"])
		require.Equal(t, "payment_failed", m["status"])
	})
}

func TestPurchaseTemporalDownIs503(t *testing.T) {
	e := newEnv(t)
	e.expectPay(nil, serviceerror.NewUnavailable("connection refused")).Once()
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil),
		auth: bearerOf(e.buyerToken(buyerA)), headers: map[string]string{"Idempotency-Key": "down"}})
	requireError(t, w, http.StatusServiceUnavailable, "unavailable")
}

func FuzzPurchaseDecode(f *testing.F) {
	seeds := []string{
		`{"product_id":"prod_widget","quantity":1,"shipping_address":{"name":"A","line1":"1","city":"C","postal_code":"1","country":"GB"},"payment_method":"pm_card_visa"}`,
		`{}`, `null`, `[]`, `"x"`, `{"quantity":1e400}`, `{"quantity":-9223372036854775809}`,
		`{"shipping_address":null}`, `{"shipping_address":{"country":"\u0000\u00ff"}}`,
		`{"product_id":"prod_widget","quantity":1}{"a":1}`, "{\"product_id\":\"\xff\xfe\"}", `{"a":`,
		`{"product_id":"prod_widget","quantity":3,"shipping_address":{"name":"` + strings.Repeat("n", 300) + `"}}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	e := newEnv(f)
	e.temporal.On("NewWithStartWorkflowOperation", mock.Anything, mock.Anything, mock.Anything).Return(fakeStartOp{}).Maybe()
	e.temporal.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).
		Return(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized}}, nil).Maybe()
	tok := bearerOf(e.buyerToken(buyerA))
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: body, auth: tok,
			headers: map[string]string{"Idempotency-Key": "fuzz"}})
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %q", w.Body.String())
		}
		if w.Code >= 400 && w.Code != http.StatusPaymentRequired && m["error"] == nil {
			t.Fatalf("status %d without error object: %s", w.Code, w.Body.String())
		}
	})
}

func TestPurchasesBeyondTheInFlightLimitAreRefusedFast(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Admission = AdmissionLimits{Initial: 1, Min: 1, Max: 1} })
	entered, release := make(chan struct{}), make(chan struct{})
	e.expectPay(fakeHandle{result: workflows.PayResult{Status: models.StatusAuthorized}}, nil).Run(func(mock.Arguments) {
		close(entered)
		<-release
	}).Once()
	tok := bearerOf(e.buyerToken(buyerA))
	done := make(chan int)
	go func() {
		w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil), auth: tok,
			headers: map[string]string{"Idempotency-Key": "first"}})
		done <- w.Code
	}()
	<-entered
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: purchaseBody(t, nil), auth: tok,
		headers: map[string]string{"Idempotency-Key": "second"}})
	requireError(t, w, http.StatusServiceUnavailable, "busy")
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	close(release)
	require.Equal(t, http.StatusCreated, <-done)
}
