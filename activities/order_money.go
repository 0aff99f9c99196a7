package activities

import (
	"context"
	"errors"

	"github.com/buybutton/checkout/failures"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
)

// The order's workflow moves the order's money and writes what it decided
// to the store through the activities below, one step each, in order: the
// ledger counts a refund, Stripe makes it, the ledger records Stripe's
// answer. The store is the projection of those decisions, never a second
// decider.

// Disputes records Stripe's disputes on orders; *store.Store satisfies it.
type Disputes interface {
	RecordDispute(ctx context.Context, orderID, status, detail string) (models.Order, error)
}

// EventSequences keeps the last sequence number of each order's merchant
// events across the end of its workflow; *store.Store satisfies it.
type EventSequences interface {
	SaveEventSequence(ctx context.Context, orderID string, last int) error
	TakeEventSequences(ctx context.Context, orderID string, n int) (int, error)
}

// CountRefund counts a refund against the order's captured amount in the
// ledger before Stripe is asked. The same key again returns the refund it
// counted (a retry, or a request repeated after the order's workflow
// ended); the ledger refuses more than was captured.
func (a *Activities) CountRefund(ctx context.Context, in models.NewRefund) (RefundResult, error) {
	res, err := a.countRefund(ctx, in)
	return res, failures.ToTemporal(err)
}

func (a *Activities) countRefund(ctx context.Context, in models.NewRefund) (RefundResult, error) {
	ledger, ok := a.Store.(RefundLedger)
	if !ok {
		return RefundResult{}, errNoLedger
	}
	rf, o, err := ledger.ReserveRefund(ctx, in)
	return RefundResult{Refund: rf, Order: o}, err
}

// CreateRefund asks Stripe for a counted refund, retrieve-then-act: the
// gateway adopts a refund an earlier attempt made (found by its order and
// request tags, which outlive Stripe's 24-hour keys) and otherwise creates
// it under this attempt's own key.
func (a *Activities) CreateRefund(ctx context.Context, req payments.RefundRequest) (payments.Refund, error) {
	req.Attempt = attempt(ctx)
	if err := a.refundConnect(ctx, &req); err != nil {
		return payments.Refund{}, failures.ToTemporal(err)
	}
	rf, err := a.Payments.Refund(ctx, req)
	var e *models.Error
	if errors.As(err, &e) {
		a.orderLog(ctx, req.OrderID).WarnContext(ctx, "Stripe refund failed", "code", e.Code)
	}
	if err == nil && payments.LedgerRefundStatus(rf.Status) != models.RefundFailed {
		// Where the money came from is written before the workflow records
		// the refund's status, so a retry after a crash writes it too.
		err = a.recordRefundSplit(ctx, req, req.Step, rf)
	}
	return rf, failures.ToTemporal(err)
}

// RefundChange is one refund's new state at Stripe, as the ledger records it.
type RefundChange struct {
	OrderID string `json:"order_id"`
	// Key names the refund by its request; empty: StripeRefundID does.
	Key            string              `json:"key,omitempty"`
	StripeRefundID string              `json:"stripe_refund_id,omitempty"`
	Status         models.RefundStatus `json:"status"`
}

// RecordRefund writes where a counted refund is at Stripe: it moves only
// forward (pending, succeeded, failed), and a failed one stops counting.
// Refund is the refund after the change and Before its status before it.
func (a *Activities) RecordRefund(ctx context.Context, c RefundChange) (RecordedRefund, error) {
	res, err := a.recordRefund(ctx, c)
	return res, failures.ToTemporal(err)
}

// RecordedRefund is RecordRefund's answer.
type RecordedRefund struct {
	RefundResult
	// Key is the refund's request key (models.Refund keeps it out of JSON).
	Key    string              `json:"key"`
	Before models.RefundStatus `json:"before"`
}

func (a *Activities) recordRefund(ctx context.Context, c RefundChange) (RecordedRefund, error) {
	ledger, ok := a.Store.(RefundLedger)
	list, listed := a.Store.(RefundList)
	if !ok || !listed {
		return RecordedRefund{}, errNoLedger
	}
	refunds, err := list.Refunds(ctx, c.OrderID)
	if err != nil {
		return RecordedRefund{}, err
	}
	var before models.Refund
	for _, r := range refunds {
		if c.Key != "" && r.Key == c.Key || c.Key == "" && c.StripeRefundID != "" && r.StripeRefundID == c.StripeRefundID {
			before = r
		}
	}
	if before.Key == "" {
		return RecordedRefund{}, models.NotFound("refund")
	}
	// The status before comes from the write's own transaction: news that
	// arrives twice at once moves the refund once.
	rf, o, was, err := ledger.MoveStripeRefund(ctx, c.OrderID, before.Key, c.StripeRefundID, c.Status)
	if err != nil {
		return RecordedRefund{}, err
	}
	return RecordedRefund{RefundResult: RefundResult{Refund: rf, Order: o}, Key: before.Key, Before: was}, nil
}

// DisputeChange is Stripe's news of the order's dispute.
type DisputeChange struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Detail  string `json:"detail"`
}

// RecordDispute writes where the order's dispute is at Stripe (the store
// moves it only forward: a closed dispute is final) and answers the order
// after it.
func (a *Activities) RecordDispute(ctx context.Context, c DisputeChange) (models.Order, error) {
	d, ok := a.Store.(Disputes)
	if !ok {
		return models.Order{}, failures.ToTemporal(models.Errorf(models.KindInternal, "disputes_unsupported", "the store keeps no disputes"))
	}
	o, err := d.RecordDispute(ctx, c.OrderID, c.Status, c.Detail)
	return o, failures.ToTemporal(err)
}

// SaveEventSequence keeps the last sequence number the order's workflow
// gave its merchant events, for whatever handles the order after it ends.
func (a *Activities) SaveEventSequence(ctx context.Context, orderID string, last int) error {
	s, ok := a.Store.(EventSequences)
	if !ok {
		return failures.ToTemporal(errNoSequences)
	}
	return failures.ToTemporal(s.SaveEventSequence(ctx, orderID, last))
}

// TakeEventSequences reserves the next n sequence numbers of the order's
// merchant events and answers the first.
func (a *Activities) TakeEventSequences(ctx context.Context, orderID string, n int) (int, error) {
	s, ok := a.Store.(EventSequences)
	if !ok {
		return 0, failures.ToTemporal(errNoSequences)
	}
	first, err := s.TakeEventSequences(ctx, orderID, n)
	return first, failures.ToTemporal(err)
}

var (
	errNoLedger    = models.Errorf(models.KindInternal, "refunds_unsupported", "the store keeps no refund ledger")
	errNoSequences = models.Errorf(models.KindInternal, "sequences_unsupported", "the store keeps no event sequences")
)

// LoadOrder reads the order as the store has it.
func (a *Activities) LoadOrder(ctx context.Context, orderID string) (models.Order, error) {
	o, err := a.Store.Order(ctx, orderID)
	return o, failures.ToTemporal(err)
}
