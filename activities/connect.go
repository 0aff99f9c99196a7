package activities

import (
	"context"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// Connect is the platform's fee setting and refund policy; the money of a
// sale goes to the merchant's connected account less that fee.
type Connect struct {
	Fee       models.FeePolicy
	RefundFee models.RefundFeePolicy
}

// FeeLedger keeps each order's fee snapshot and refund splits; *store.Store
// satisfies it. Like RefundLedger it is looked up on Store, so stores that
// know nothing of Connect (test fakes) charge the platform alone.
type FeeLedger interface {
	SnapshotOrderFee(ctx context.Context, orderID, merchantID string, amount int64, platform models.FeePolicy) (models.OrderFee, error)
	OrderFee(ctx context.Context, orderID string) (models.OrderFee, bool, error)
	RecordCapturedFee(ctx context.Context, orderID string, fee int64) error
	RecordRefundSplit(ctx context.Context, orderID, key, stripeRefundID string, amount, reversed int64, returnsFee bool) (models.RefundSplit, error)
}

// DestinationPayments captures a destination charge with its application
// fee; *payments.Gateway satisfies it.
type DestinationPayments interface {
	CaptureWithFee(ctx context.Context, orderID, intentID string, applicationFee int64, attempt int32) (payments.Intent, error)
}

func (a *Activities) feeLedger() (FeeLedger, bool) {
	l, ok := a.Store.(FeeLedger)
	return l, ok
}

// withDestination takes the order's fee snapshot (the first attempt does;
// later ones read it back) and makes the authorization a destination
// charge to the merchant's account. A merchant that cannot take charges
// fails the authorization: merchant_cannot_accept_payments.
func (a *Activities) withDestination(ctx context.Context, req payments.AuthorizeRequest) (payments.AuthorizeRequest, error) {
	ledger, ok := a.feeLedger()
	if !ok {
		return req, nil
	}
	merchantID := req.MerchantID
	if merchantID == "" {
		o, err := a.Store.Order(ctx, req.OrderID)
		if err != nil {
			return req, err
		}
		merchantID = o.MerchantID
	}
	f, err := ledger.SnapshotOrderFee(ctx, req.OrderID, merchantID, req.Amount.Amount, a.Connect.Fee)
	if err != nil {
		return req, err
	}
	req.Destination = f.Destination
	return req, nil
}

// captureDestination captures a destination charge with the snapshot's fee
// on the captured amount and records the fee sent. done is false for an
// order without a destination, which the caller captures as before.
func (a *Activities) captureDestination(ctx context.Context, orderID, intentID string) (in payments.Intent, done bool, err error) {
	ledger, ok := a.feeLedger()
	gw, gok := a.Payments.(DestinationPayments)
	if !ok || !gok {
		return payments.Intent{}, false, nil
	}
	f, found, err := ledger.OrderFee(ctx, orderID)
	if err != nil || !found || f.Destination == "" {
		return payments.Intent{}, false, err
	}
	o, err := a.Store.Order(ctx, orderID)
	if err != nil {
		return payments.Intent{}, true, err
	}
	// Captures take the whole authorized amount (see payments.Capture).
	fee := f.AtCapture(o.AmountMinor)
	in, err = gw.CaptureWithFee(ctx, orderID, intentID, fee, attempt(ctx))
	if err != nil {
		return in, true, err
	}
	return in, true, ledger.RecordCapturedFee(ctx, orderID, fee)
}

// refundConnect says how a refund of the order treats the merchant's
// transfer and the platform fee: a destination charge reverses the
// transfer, and returns the fee unless the policy keeps it.
func (a *Activities) refundConnect(ctx context.Context, r *payments.RefundRequest) error {
	ledger, ok := a.feeLedger()
	if !ok {
		return nil
	}
	f, found, err := ledger.OrderFee(ctx, r.OrderID)
	if err != nil || !found || f.Destination == "" {
		return err
	}
	r.ReverseTransfer = true
	r.RefundApplicationFee = a.Connect.RefundFee.ReturnsFee() && f.CapturedFeeMinor > 0
	return nil
}

// recordRefundSplit writes where a refund's money came from, once per
// request; a refund without a reversed transfer has nothing to split.
func (a *Activities) recordRefundSplit(ctx context.Context, req payments.RefundRequest, key string, sr payments.Refund) error {
	ledger, ok := a.feeLedger()
	if !ok || !req.ReverseTransfer {
		return nil
	}
	_, err := ledger.RecordRefundSplit(ctx, req.OrderID, key, sr.ID, sr.Amount, sr.ReversedMinor, req.RefundApplicationFee)
	return err
}
