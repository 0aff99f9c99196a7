package payments

import (
	"context"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// searchLimit bounds the one page FindIntentByOrder reads. The authorize
// idempotency key makes one intent per order the norm; the page leaves room
// for the odd extra (an intent made by hand in the dashboard) without paging.
const searchLimit = 10

// FindIntentByOrder looks for the PaymentIntent Authorize created for an
// order, by the order_id metadata every intent carries. It is how a hold
// whose create answer was lost (timeout, 5xx after the work) is found again.
//
// Stripe's search index lags writes (documented: usually under a minute), so
// false means "not found yet", not "never created": callers must search
// again over a span longer than that lag before concluding there is none.
//
// When several intents match, the one still able to hold money wins over
// canceled ones, so a caller voiding the result never stops at a stale match.
func (g *Gateway) FindIntentByOrder(ctx context.Context, orderID string) (Intent, bool, error) {
	if orderID == "" {
		return Intent{}, false, models.Invalid("invalid_order", "order id is required")
	}
	params := &stripe.PaymentIntentSearchParams{}
	params.Query = OrderSearchQuery(orderID)
	params.Limit = stripe.Int64(searchLimit)
	params.Single = true
	params.Context = ctx

	it := g.sc.PaymentIntents.Search(params)
	var found *stripe.PaymentIntent
	for it.Next() {
		pi := it.PaymentIntent()
		if pi.Metadata["order_id"] != orderID {
			// Search matched something we did not ask for: never act on it.
			continue
		}
		if found == nil || found.Status == stripe.PaymentIntentStatusCanceled && pi.Status != stripe.PaymentIntentStatusCanceled {
			found = pi
		}
	}
	if err := it.Err(); err != nil {
		return Intent{}, false, classify(err)
	}
	if found == nil {
		return Intent{}, false, nil
	}
	return toIntent(found), true, nil
}

// OrderSearchQuery is the Stripe search query matching intents whose
// order_id metadata is exactly orderID. Quotes and backslashes are escaped
// so an id can never widen the query.
func OrderSearchQuery(orderID string) string {
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(orderID)
	return "metadata['order_id']:'" + esc + "'"
}
