package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/buybutton/checkout/models"
)

// Search attributes the workflow keeps current, so operators can find an
// order's workflow by status, merchant or amount. None carries PII.
var (
	OrderStatusKey = temporal.NewSearchAttributeKeyKeyword("OrderStatus")
	MerchantIDKey  = temporal.NewSearchAttributeKeyKeyword("MerchantID")
	AmountMinorKey = temporal.NewSearchAttributeKeyInt64("AmountMinor")
	CurrencyKey    = temporal.NewSearchAttributeKeyKeyword("Currency")
)

// SearchAttribute declares one attribute to a Temporal server; Type is the
// name the CLI takes (temporal server start-dev --search-attribute Name=Type).
type SearchAttribute struct {
	Name string
	Type string
}

// SearchAttributes lists what a dev server or cluster must declare before the
// workflow can upsert the keys above.
var SearchAttributes = []SearchAttribute{
	{Name: OrderStatusKey.GetName(), Type: "Keyword"},
	{Name: MerchantIDKey.GetName(), Type: "Keyword"},
	{Name: AmountMinorKey.GetName(), Type: "Int"},
	{Name: CurrencyKey.GetName(), Type: "Keyword"},
}

// SearchAttributesSchema is the same declaration in the SDK's typed form
// (testsuite.DevServerOptions.SearchAttributes); only the keys matter.
func SearchAttributesSchema() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		OrderStatusKey.ValueSet(""),
		MerchantIDKey.ValueSet(""),
		AmountMinorKey.ValueSet(0),
		CurrencyKey.ValueSet(""),
	)
}

// OrderAttributes are the values of an order's search attributes ("" and
// 0: not set). A purchase's workflow carries those it was started with in
// its input (PurchaseInput.Attributes) and keeps track from there of what it
// set, rather than reading its own search attributes back: what it decides
// then follows from its input and its own steps alone (the SDK's replay
// even merges later upserts into the started event it is given).
type OrderAttributes struct {
	Status      models.OrderStatus `json:"status"`
	MerchantID  string             `json:"merchant_id,omitempty"`
	AmountMinor int64              `json:"amount_minor,omitempty"`
	Currency    string             `json:"currency,omitempty"`
}

// PendingOrderAttributes are what a purchase's workflow is started with:
// the values its validation gives the order it creates (status pending,
// the product's merchant, the priced total in minor units with shipping and
// tax, and its currency), so a new workflow need not upsert them itself
// when they are already right. An order nobody priced yet (currency "")
// starts without amount and currency; an unknown merchant ("") without
// MerchantID.
func PendingOrderAttributes(merchantID string, amountMinor int64, currency string) OrderAttributes {
	a := OrderAttributes{Status: models.StatusPending, MerchantID: merchantID}
	if currency != "" {
		a.AmountMinor, a.Currency = amountMinor, currency
	}
	return a
}

// SearchAttributes are a's values, to start a workflow with.
func (a OrderAttributes) SearchAttributes() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(a.updatesFrom(OrderAttributes{})...)
}

// updatesFrom are the upserts that take attributes with the values was to
// a's: one per value a sets that was differs in.
func (a OrderAttributes) updatesFrom(was OrderAttributes) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if a.Status != "" && a.Status != was.Status {
		u = append(u, OrderStatusKey.ValueSet(string(a.Status)))
	}
	if a.MerchantID != "" && a.MerchantID != was.MerchantID {
		u = append(u, MerchantIDKey.ValueSet(a.MerchantID))
	}
	if a.Currency != "" && (a.Currency != was.Currency || a.AmountMinor != was.AmountMinor) {
		u = append(u, AmountMinorKey.ValueSet(a.AmountMinor), CurrencyKey.ValueSet(a.Currency))
	}
	return u
}
