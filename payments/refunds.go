package payments

import (
	"context"

	"github.com/stripe/stripe-go/v76"

	"github.com/buybutton/checkout/models"
)

// stripeRefundReasons are the only reasons Stripe accepts; any other value
// makes it answer 400.
var stripeRefundReasons = map[string]bool{
	string(stripe.RefundReasonDuplicate):           true,
	string(stripe.RefundReasonFraudulent):          true,
	string(stripe.RefundReasonRequestedByCustomer): true,
}

// Refund returns captured money. Each (order, step) refunds at most once, so a
// retried refund cannot pay the buyer back twice.
func (g *Gateway) Refund(ctx context.Context, r RefundRequest) (Refund, error) {
	switch {
	case r.OrderID == "" || r.IntentID == "":
		return Refund{}, models.Invalid("invalid_refund", "order and payment intent are required")
	case r.Amount <= 0:
		return Refund{}, models.Invalid("invalid_amount", "refund amount must be positive")
	case r.Step == "":
		return Refund{}, models.Invalid("invalid_refund", "refund step is required")
	}
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(r.IntentID),
		Amount:        stripe.Int64(r.Amount),
	}
	params.AddMetadata("order_id", r.OrderID)
	if stripeRefundReasons[r.Reason] {
		params.Reason = stripe.String(r.Reason)
	} else {
		params.Reason = stripe.String(string(stripe.RefundReasonRequestedByCustomer))
		if r.Reason != "" {
			params.AddMetadata("reason", truncate(r.Reason, maxMetadataValue))
		}
	}
	params.IdempotencyKey = stripe.String(IdempotencyKey(r.OrderID, "refund:"+r.Step))
	params.Context = ctx
	rf, err := g.sc.Refunds.New(params)
	if err != nil {
		return Refund{}, classify(err)
	}
	return Refund{ID: rf.ID, Status: string(rf.Status), Amount: rf.Amount}, nil
}

// maxMetadataValue is Stripe's limit on one metadata value.
const maxMetadataValue = 500

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
