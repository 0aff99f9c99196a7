package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/rollout"
	"github.com/buybutton/checkout/store"
	"github.com/buybutton/checkout/store/storetest"
)

// catalogueEnv is the API over a real (SQLite) store. Its Temporal client
// expects nothing: a purchase refused before its workflow starts never
// reaches it, and the mock fails the test if one does.
type catalogueEnv struct {
	*env
	st  *store.Store
	key string
	mer models.Merchant
}

func newCatalogueEnv(t *testing.T) *catalogueEnv {
	t.Helper()
	st := storetest.Open(t, storetest.SQLite)
	m, key, err := st.CreateMerchant(context.Background(), "Shirts", "https://shirts.example/hooks")
	require.NoError(t, err)
	// A merchant sells only with a connected account that takes charges.
	_, err = st.AttachStripeAccount(context.Background(), m.ID, models.AccountState{AccountID: "acct_shirts", ChargesEnabled: true, PayoutsEnabled: true})
	require.NoError(t, err)
	tc := mocks.NewClient(t)
	cfg := Config{
		Store: st, Temporal: tc, TaskQueue: "checkout", BuyerTokenSecret: []byte(testSecret),
		PayWait: 2 * time.Second, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Rollout:    mustGate(t, rollout.Settings{Percent: 100}),
		RateLimits: RateLimits{IP: RateLimit{Off: true}, Buyer: RateLimit{Off: true}, Merchant: RateLimit{Off: true}},
	}
	return &catalogueEnv{env: &env{t: t, temporal: tc, handler: New(cfg)}, st: st, key: key, mer: m}
}

func (e *catalogueEnv) merchantDo(method, path, body string) map[string]any {
	e.t.Helper()
	w := e.do(req{method: method, path: path, body: body, auth: bearerOf(e.key)})
	require.Less(e.t, w.Code, 300, "%s %s: %s", method, path, w.Body.String())
	return decodeBody(e.t, w)
}

const shirtBody = `{"title":"Shirt","price":2500,"currency":"eur","max_per_order":5,
	"options":[{"name":"size","values":["S","M"]},{"name":"colour","values":["red","blue"]}],
	"variants":[{"sku":"S-RED","options":{"size":"S","colour":"red"},"stock":3},
	            {"sku":"M-BLUE","options":{"size":"M","colour":"blue"},"price":2700,"stock":0}],
	"images":["https://cdn.example/shirt.jpg","https://cdn.example/back.jpg"]}`

const policies = `{"zones":[
	{"name":"Germany","countries":["DE"],"rates":[
		{"id":"de-standard","name":"Standard","amount":490,"currency":"eur","min_days":2,"max_days":4,"free_above":10000},
		{"id":"de-express","name":"Express","amount":1290,"currency":"eur","min_days":1,"max_days":1}]},
	{"name":"United States","countries":["US"],"rates":[
		{"id":"us-intl","name":"International","amount":1500,"currency":"eur","min_days":5,"max_days":10}]}]}`

const taxes = `{"rates":[
	{"country":"DE","name":"MwSt","rate_bps":1900,"inclusive":true,"shipping_taxed":true},
	{"country":"US","region":"CA","name":"Sales tax","rate_bps":725}]}`

func (e *catalogueEnv) shirt() models.ProductDetail {
	e.t.Helper()
	body := e.merchantDo(http.MethodPost, "/v1/products", shirtBody)
	var d models.ProductDetail
	b, _ := json.Marshal(body)
	require.NoError(e.t, json.Unmarshal(b, &d))
	e.merchantDo(http.MethodPut, "/v1/merchant/shipping", policies)
	e.merchantDo(http.MethodPut, "/v1/merchant/tax", taxes)
	return d
}

func TestProductCardShowsVariantsNotStock(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	require.Len(t, d.Variants, 2)
	w := e.do(req{method: http.MethodGet, path: "/v1/products/" + d.ID})
	require.Equal(t, http.StatusOK, w.Code)
	require.NotContains(t, w.Body.String(), "stock", "the public card never tells stock")
	card := decodeBody(t, w)
	require.Equal(t, "https://cdn.example/shirt.jpg", card["image"])
	require.Equal(t, true, card["available"])
	variants := card["variants"].([]any)
	require.Len(t, variants, 2)
	require.Equal(t, true, variants[0].(map[string]any)["available"])
	require.Equal(t, false, variants[1].(map[string]any)["available"], "M-BLUE has no stock")

	// Restock is an increment; deactivating hides the variant.
	v := e.merchantDo(http.MethodPost, "/v1/merchant/products/"+d.ID+"/variants/"+d.Variants[1].ID+"/restock", `{"units":4}`)
	require.EqualValues(t, 4, v["stock"])
	e.merchantDo(http.MethodPatch, "/v1/merchant/products/"+d.ID+"/variants/"+d.Variants[0].ID, `{"active":false}`)
	card = decodeBody(t, e.do(req{method: http.MethodGet, path: "/v1/products/" + d.ID}))
	require.Len(t, card["variants"].([]any), 1)
	detail := e.merchantDo(http.MethodGet, "/v1/merchant/products/"+d.ID, "")
	require.Len(t, detail["variants"].([]any), 2, "the merchant sees every variant")
}

func TestQuotePricesPerDestination(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	quote := func(body string) *catalogueQuote {
		w := e.do(req{method: http.MethodPost, path: "/v1/quotes", body: body})
		if w.Code != http.StatusCreated {
			return &catalogueQuote{status: w.Code, raw: w.Body.String()}
		}
		var q models.Quote
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &q))
		return &catalogueQuote{status: w.Code, q: q, raw: w.Body.String()}
	}
	de := quote(fmt.Sprintf(`{"product_id":%q,"options":{"size":"S","colour":"red"},"quantity":2,"shipping_address":{"country":"de","postal_code":"10115"}}`, d.ID))
	require.Equal(t, http.StatusCreated, de.status, de.raw)
	// 2 × 25.00 = 50.00 + 4.90; VAT 19 % inside: 7.98 + 0.78.
	require.Equal(t, []int64{5000, 490, 876, 5490}, []int64{de.q.Subtotal, de.q.Shipping.Amount, de.q.Tax.Amount, de.q.Total})
	require.Len(t, de.q.Rates, 2)
	ca := quote(fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":2,"shipping_address":{"country":"US","region":"CA"},"shipping_rate":"us-intl"}`, d.ID, d.Variants[0].ID))
	require.Equal(t, http.StatusCreated, ca.status, ca.raw)
	// 50.00 + 15.00, 7.25 % added on the goods only: 3.625 → 3.63.
	require.Equal(t, []int64{5000, 1500, 363, 6863}, []int64{ca.q.Subtotal, ca.q.Shipping.Amount, ca.q.Tax.Amount, ca.q.Total})

	fr := e.do(req{method: http.MethodPost, path: "/v1/quotes", body: fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":1,"shipping_address":{"country":"FR"}}`, d.ID, d.Variants[0].ID)})
	requireError(t, fr, http.StatusUnprocessableEntity, models.CodeShippingUnavailable)
}

type catalogueQuote struct {
	status int
	q      models.Quote
	raw    string
}

// Every bad input is its own 4xx and reaches no workflow (the Temporal mock
// expects no call) and reserves nothing.
func TestBadPurchasesAreRefusedBeforeAnythingIsReserved(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	other := e.merchantDo(http.MethodPost, "/v1/products", `{"title":"Mug","price":900,"currency":"eur","stock":4}`)
	inactive := e.merchantDo(http.MethodPost, "/v1/merchant/products/"+d.ID+"/variants",
		`{"sku":"S-BLUE","options":{"size":"S","colour":"blue"},"stock":5,"active":false}`)
	ctx := context.Background()
	mine, err := e.st.CreateQuote(ctx, models.Quote{BuyerID: buyerB, ProductID: d.ID, VariantID: d.Variants[0].ID, Quantity: 1,
		DestinationFingerprint: models.Destination{Country: "DE", PostalCode: "10115"}.Fingerprint()})
	require.NoError(t, err)
	stale, err := e.st.CreateQuote(ctx, models.Quote{BuyerID: buyerA, ProductID: d.ID, VariantID: d.Variants[0].ID, Quantity: 1,
		DestinationFingerprint: models.Destination{Country: "DE", PostalCode: "10115"}.Fingerprint(), ExpiresAt: time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	used, err := e.st.CreateQuote(ctx, models.Quote{BuyerID: buyerA, ProductID: d.ID, VariantID: d.Variants[0].ID, Quantity: 1,
		DestinationFingerprint: models.Destination{Country: "DE", PostalCode: "10115"}.Fingerprint()})
	require.NoError(t, err)
	require.NoError(t, e.st.ClaimQuote(ctx, used.ID, "ord_someone"))

	address := `"shipping_address":{"name":"Ada","line1":"1 Str","city":"Berlin","postal_code":"10115","country":"DE"},"payment_method":"pm_card_visa"`
	cases := []struct {
		name   string
		extra  string
		status int
		code   string
	}{
		{"unknown variant", `"variant_id":"var_nope"`, 400, "unknown_variant"},
		{"variant of another product", fmt.Sprintf(`"variant_id":"var_%s"`, strings.TrimPrefix(other["id"].(string), "prod_")), 400, models.CodeVariantOfOther},
		{"inactive variant", fmt.Sprintf(`"variant_id":%q`, inactive["id"]), 400, "variant_inactive"},
		{"options naming no variant", `"options":{"size":"M","colour":"red"}`, 400, "no_such_variant"},
		{"no variant chosen", ``, 400, "variant_required"},
		{"quote of another buyer", fmt.Sprintf(`"quote_id":%q`, mine.ID), 403, models.CodeQuoteOfOtherBuyer},
		{"quote used by another purchase", fmt.Sprintf(`"quote_id":%q`, used.ID), 409, models.CodeQuoteUsed},
		{"expired quote", fmt.Sprintf(`"quote_id":%q`, stale.ID), 409, models.CodeQuoteExpired},
		{"unknown quote", `"quote_id":"quo_nope"`, 404, models.CodeQuoteNotFound},
		{"quote for another quantity", fmt.Sprintf(`"quote_id":%q,"quantity":2`, stale.ID), 400, models.CodeQuoteMismatch},
		{"rate not offered", fmt.Sprintf(`"variant_id":%q,"shipping_rate":"us-intl"`, d.Variants[0].ID), 422, "unknown_shipping_rate"},
		{"quantity above the product's limit", fmt.Sprintf(`"variant_id":%q,"quantity":6`, d.Variants[0].ID), 400, "quantity_limit"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := `{"product_id":"` + d.ID + `",` + address
			if !strings.Contains(c.extra, `"quantity"`) {
				body += `,"quantity":1`
			}
			if c.extra != "" {
				body += "," + c.extra
			}
			body += "}"
			w := e.do(req{method: http.MethodPost, path: "/v1/purchases", body: body, auth: bearerOf(e.buyerToken(buyerA)),
				headers: map[string]string{"Idempotency-Key": fmt.Sprintf("bad-%d", i)}})
			requireError(t, w, c.status, c.code)
			if c.code == models.CodeQuoteExpired {
				q := decodeBody(t, w)["quote"].(map[string]any)
				require.NotEqual(t, stale.ID, q["quote_id"])
				require.EqualValues(t, 2500+490, q["total"], "the new quote is the current price")
			}
		})
	}
	us := strings.Replace(address, `"country":"DE"`, `"country":"JP"`, 1)
	w := e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: bearerOf(e.buyerToken(buyerA)),
		body:    fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":1,%s}`, d.ID, d.Variants[0].ID, us),
		headers: map[string]string{"Idempotency-Key": "bad-jp"}})
	requireError(t, w, http.StatusUnprocessableEntity, models.CodeShippingUnavailable)

	e.merchantDo(http.MethodPatch, "/v1/merchant/products/"+other["id"].(string), `{"active":false}`)
	w = e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: bearerOf(e.buyerToken(buyerA)),
		body:    fmt.Sprintf(`{"product_id":%q,"quantity":1,%s}`, other["id"], address),
		headers: map[string]string{"Idempotency-Key": "bad-inactive"}})
	requireError(t, w, http.StatusConflict, codeProductUnavailable)

	after, err := e.st.ProductDetail(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, 3, after.Variants[0].Stock, "nothing reserved")
}

func TestMerchantCatalogueInputIsChecked(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	cases := []struct {
		method, path, body string
		code               string
	}{
		{http.MethodPost, "/v1/products", `{"title":"X","price":-1,"currency":"eur","stock":1}`, "invalid_price"},
		{http.MethodPost, "/v1/products", `{"title":"X","price":100,"currency":"eur","stock":1,"options":[{"name":"a","values":["1"]},{"name":"b","values":["1"]},{"name":"c","values":["1"]},{"name":"d","values":["1"]}],"variants":[{"options":{"a":"1","b":"1","c":"1","d":"1"}}]}`, "too_many_options"},
		{http.MethodPost, "/v1/products", `{"title":"X","price":100,"currency":"eur","stock":1,"images":["http://insecure.example/a.jpg"]}`, "invalid_image_url"},
		{http.MethodPost, "/v1/products", `{"title":"X","price":100,"currency":"eur","stock":1,"images":["https://a/1","https://a/2","https://a/3","https://a/4","https://a/5","https://a/6","https://a/7","https://a/8","https://a/9"]}`, "too_many_images"},
		{http.MethodPost, "/v1/merchant/products/" + d.ID + "/variants/" + d.Variants[0].ID + "/restock", `{"units":-3}`, "invalid_restock"},
		{http.MethodPost, "/v1/merchant/products/" + d.ID + "/variants/" + d.Variants[0].ID + "/restock", `{"units":99999999999999999999}`, "malformed_json"},
		{http.MethodPatch, "/v1/merchant/products/" + d.ID + "/variants/" + d.Variants[0].ID, `{"price":0}`, "invalid_price"},
		{http.MethodPut, "/v1/merchant/shipping", `{"zones":[{"name":"Z","countries":["DE"],"rates":[{"id":"a","name":"A","amount":-5,"currency":"eur"}]}]}`, "invalid_amount"},
		{http.MethodPut, "/v1/merchant/tax", `{"rates":[{"country":"DE","rate_bps":10001}]}`, "invalid_tax_rate"},
	}
	for _, c := range cases {
		w := e.do(req{method: c.method, path: c.path, body: c.body, auth: bearerOf(e.key)})
		require.Equal(t, http.StatusBadRequest, w.Code, "%s %s: %s", c.method, c.path, w.Body.String())
		requireError(t, w, http.StatusBadRequest, c.code)
	}
	w := e.do(req{method: http.MethodPatch, path: "/v1/merchant/products/prod_nope", body: `{"active":false}`, auth: bearerOf(e.key)})
	requireError(t, w, http.StatusNotFound, "not_found")
}

// A quote that the API found right but the workflow's validation found
// stale (the catalogue changed in between) is answered 409 with a new
// quote, not 422: the workflow refused the order before reserving.
func TestQuoteRefusedByValidationAnswersANewQuote(t *testing.T) {
	e := newCatalogueEnv(t)
	d := e.shirt()
	w := e.do(req{method: http.MethodPost, path: "/v1/quotes", auth: bearerOf(e.buyerToken(buyerA)),
		body: fmt.Sprintf(`{"product_id":%q,"variant_id":%q,"quantity":1,"shipping_address":{"country":"DE","postal_code":"10115"}}`, d.ID, d.Variants[0].ID)})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	quoteID := decodeBody(t, w)["quote_id"].(string)
	e.expectPay(fakeHandle{result: map[string]any{"order_id": "ord_x", "status": "invalid", "failure_code": models.CodeQuoteExpired}}, nil)
	w = e.do(req{method: http.MethodPost, path: "/v1/purchases", auth: bearerOf(e.buyerToken(buyerA)),
		headers: map[string]string{"Idempotency-Key": "race-1"},
		body: fmt.Sprintf(`{"product_id":%q,"quantity":1,"quote_id":%q,"payment_method":"pm_card_visa",
			"shipping_address":{"name":"Ada","line1":"1 Str","city":"Berlin","postal_code":"10115","country":"DE"}}`, d.ID, quoteID)})
	requireError(t, w, http.StatusConflict, models.CodeQuoteExpired)
	q := decodeBody(t, w)["quote"].(map[string]any)
	require.NotEqual(t, quoteID, q["quote_id"])
	require.EqualValues(t, 2500+490, q["total"])
}
