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

// Refund returns captured money, retrieve-then-act: it first lists the
// intent's refunds and adopts the one tagged with this order and step (an
// earlier attempt made it and its answer, or what followed, was lost), and
// only when there is none creates it under this attempt's key. Stripe
// forgets a key after 24 hours, so the key alone would let a retry past that
// refund a second time; the tag does not expire. The refund's status is
// reported as Stripe has it: pending and failed are not succeeded.
func (g *Gateway) Refund(ctx context.Context, r RefundRequest) (Refund, error) {
	switch {
	case r.OrderID == "" || r.IntentID == "":
		return Refund{}, models.Invalid("invalid_refund", "order and payment intent are required")
	case r.Amount <= 0:
		return Refund{}, models.Invalid("invalid_amount", "refund amount must be positive")
	case r.Step == "":
		return Refund{}, models.Invalid("invalid_refund", "refund step is required")
	}
	if rf, found, err := g.findRefund(ctx, r); err != nil || found {
		return rf, err
	}
	rf, err := g.createRefund(ctx, r)
	if err != nil && retryable(err) {
		// The outcome is unknown: Stripe may have made it.
		if found, ok, ferr := g.findRefund(ctx, r); ferr == nil && ok {
			return found, nil
		}
	}
	return rf, err
}

// findRefund looks for the refund an earlier attempt of r made.
func (g *Gateway) findRefund(ctx context.Context, r RefundRequest) (Refund, bool, error) {
	params := &stripe.RefundListParams{PaymentIntent: stripe.String(r.IntentID)}
	params.Limit = stripe.Int64(100)
	if r.ReverseTransfer {
		params.AddExpand("data.transfer_reversal")
	}
	params.Context = ctx
	it := g.sc.Refunds.List(params)
	for it.Next() {
		rf := it.Refund()
		if rf.Metadata[MetadataOrderID] == r.OrderID && rf.Metadata[MetadataRefundRequest] == r.Step {
			return toRefund(rf), true, nil
		}
	}
	if err := it.Err(); err != nil {
		return Refund{}, false, classify(err)
	}
	return Refund{}, false, nil
}

func (g *Gateway) createRefund(ctx context.Context, r RefundRequest) (Refund, error) {
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(r.IntentID),
		Amount:        stripe.Int64(r.Amount),
	}
	params.AddMetadata(MetadataOrderID, r.OrderID)
	params.AddMetadata(MetadataOperation, "refund")
	params.AddMetadata(MetadataRefundRequest, r.Step)
	if stripeRefundReasons[r.Reason] {
		params.Reason = stripe.String(r.Reason)
	} else {
		params.Reason = stripe.String(string(stripe.RefundReasonRequestedByCustomer))
		if r.Reason != "" {
			params.AddMetadata("reason", truncate(r.Reason, maxMetadataValue))
		}
	}
	if r.ReverseTransfer {
		params.ReverseTransfer = stripe.Bool(true)
		params.AddExpand("transfer_reversal")
	}
	if r.RefundApplicationFee {
		params.RefundApplicationFee = stripe.Bool(true)
	}
	params.IdempotencyKey = stripe.String(AttemptKey(r.OrderID, "refund:"+r.Step, r.Attempt))
	params.Context = ctx
	rf, err := g.sc.Refunds.New(params)
	if err != nil {
		return Refund{}, classify(err)
	}
	return toRefund(rf), nil
}

// LedgerRefundStatus maps a Stripe refund status to the ledger's: pending
// and requires_action are money still on its way; failed and canceled are
// money that will not go back.
func LedgerRefundStatus(stripeStatus string) models.RefundStatus {
	switch stripeStatus {
	case RefundSucceeded:
		return models.RefundSucceeded
	case RefundFailed, RefundCanceled:
		return models.RefundFailed
	}
	return models.RefundPending
}

func toRefund(rf *stripe.Refund) Refund {
	out := Refund{ID: rf.ID, Status: string(rf.Status), Amount: rf.Amount, FailureReason: string(rf.FailureReason)}
	if rf.TransferReversal != nil {
		out.ReversedMinor = rf.TransferReversal.Amount
	}
	return out
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
