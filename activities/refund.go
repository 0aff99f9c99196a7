package activities

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// RefundLedger is the store's refund accounting; *store.Store satisfies it.
// It is looked up on Store rather than added to it, so stores that never
// refund (test fakes) need not implement it.
type RefundLedger interface {
	ReserveRefund(ctx context.Context, r models.NewRefund) (models.Refund, models.Order, error)
	RecordStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, error)
	// MoveStripeRefund is RecordStripeRefund answering also the status
	// before the write, read in the same transaction.
	MoveStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, models.RefundStatus, error)
}

// RefundResult is the refund as done and the order after it.
type RefundResult struct {
	Refund models.Refund `json:"refund"`
	Order  models.Order  `json:"order"`
}

// RefundOrder gives captured money back: it counts the refund against the
// captured amount in the store (refusing any excess), asks Stripe, and
// records the answer. Stripe is asked retrieve-then-act: the gateway first
// looks among the intent's refunds for one tagged with this order and
// request and adopts it, so a refund Stripe made whose answer or ledger
// write was lost is never made twice, even once Stripe has forgotten the
// idempotency key (24 hours). A request the ledger still shows pending asks
// again, so a pending refund is re-read until Stripe settles it.
//
// The refund's status is Stripe's: pending (counted, not yet done),
// succeeded, or failed (no longer counted). Stripe refusing or failing the
// refund at once is a non-retryable error, as before.
func (a *Activities) RefundOrder(ctx context.Context, in models.NewRefund) (RefundResult, error) {
	res, err := a.refundOrder(ctx, in)
	return res, failures.ToTemporal(err)
}

func (a *Activities) refundOrder(ctx context.Context, in models.NewRefund) (RefundResult, error) {
	ledger, ok := a.Store.(RefundLedger)
	if !ok {
		return RefundResult{}, models.Errorf(models.KindInternal, "refunds_unsupported", "the store keeps no refund ledger")
	}
	rf, o, err := ledger.ReserveRefund(ctx, in)
	if err != nil {
		return RefundResult{}, err
	}
	if rf.Status != models.RefundPending {
		return RefundResult{Refund: rf, Order: o}, nil
	}
	req := payments.RefundRequest{
		OrderID:  in.OrderID,
		IntentID: o.PaymentIntentID,
		Amount:   rf.AmountMinor,
		Reason:   in.Reason,
		Step:     RefundStep(in.Key),
		Attempt:  attempt(ctx),
	}
	if err := a.refundConnect(ctx, &req); err != nil {
		return RefundResult{}, err
	}
	sr, err := a.Payments.Refund(ctx, req)
	if err != nil {
		var e *models.Error
		if !errors.As(err, &e) || e.Kind == models.KindUnavailable || e.Kind == models.KindInternal {
			return RefundResult{}, err // retried; the reservation stays
		}
		a.orderLog(ctx, in.OrderID).WarnContext(ctx, "Stripe refused a refund", "code", e.Code)
		if _, _, ferr := ledger.RecordStripeRefund(ctx, in.OrderID, in.Key, "", models.RefundFailed); ferr != nil {
			return RefundResult{}, ferr
		}
		return RefundResult{}, err
	}
	status := payments.LedgerRefundStatus(sr.Status)
	if status != models.RefundFailed {
		// Written before the refund's status, so a retry after a crash
		// between the two still finds the refund pending and writes it.
		if err := a.recordRefundSplit(ctx, req, req.Step, sr); err != nil {
			return RefundResult{}, err
		}
	}
	rf, o, err = ledger.RecordStripeRefund(ctx, in.OrderID, in.Key, sr.ID, status)
	if err != nil {
		return RefundResult{}, err
	}
	if status == models.RefundFailed {
		a.orderLog(ctx, in.OrderID).WarnContext(ctx, "Stripe failed a refund", "stripe_status", sr.Status, "failure_reason", sr.FailureReason)
		return RefundResult{}, models.Errorf(models.KindConflict, CodeRefundFailed, "the payment service could not refund this payment")
	}
	return RefundResult{Refund: rf, Order: o}, nil
}

// CodeRefundFailed is the error of a refund Stripe made but failed (or canceled).
const CodeRefundFailed = "refund_failed"

// RefundStep names a refund within its order at Stripe. Merchants' request
// keys are hashed: they are client-chosen text and must not reach Stripe's
// idempotency keys as they are.
func RefundStep(key string) string {
	if key == RefundKeyCancel {
		return key
	}
	return "merchant:" + models.TextID(key)
}

// RefundKeyCancel is the request key of the refund a buyer's cancel after
// capture makes.
const RefundKeyCancel = "cancel"

// RetrievePaymentIntent reads the intent's state at Stripe now: webhooks
// come late, twice or out of order, so the workflow decides on this.
func (a *Activities) RetrievePaymentIntent(ctx context.Context, intentID string) (payments.Intent, error) {
	in, err := a.Payments.Retrieve(ctx, intentID)
	return in, failures.ToTemporal(err)
}
