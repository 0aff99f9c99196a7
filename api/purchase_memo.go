package api

import "github.com/buybutton/checkout/workflows"

// purchaseMemo is what Temporal UI shows beside a purchase workflow: enough
// for an operator to recognise the order at a glance. It names the product,
// never the buyer: like workflow ids and search attributes, the memo carries
// no personal data.
func purchaseMemo(in workflows.PurchaseInput, productTitle string) map[string]any {
	m := map[string]any{"order_id": in.OrderID, "product_id": in.ProductID, "quantity": in.Quantity}
	if productTitle != "" {
		m["product_title"] = productTitle
	}
	return m
}
