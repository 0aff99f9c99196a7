package workflows

import "go.temporal.io/sdk/temporal"

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
