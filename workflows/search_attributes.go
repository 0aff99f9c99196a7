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

// PendingOrderSearchAttributes are what a purchase's workflow is started
// with: the values its validation gives the order it creates (status
// pending, the product's merchant, the priced total in minor units with
// shipping and tax, and its currency), so a new workflow need not upsert
// them itself when they are already right. An order nobody priced yet
// (currency "") starts without amount and currency; an unknown merchant
// ("") without MerchantID.
func PendingOrderSearchAttributes(merchantID string, amountMinor int64, currency string) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{OrderStatusKey.ValueSet(string(models.StatusPending))}
	if merchantID != "" {
		updates = append(updates, MerchantIDKey.ValueSet(merchantID))
	}
	if currency != "" {
		updates = append(updates, AmountMinorKey.ValueSet(amountMinor), CurrencyKey.ValueSet(currency))
	}
	return temporal.NewSearchAttributes(updates...)
}
