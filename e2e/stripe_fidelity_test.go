package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/activities"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/sandbox"
	"github.com/buybutton/checkout/store"
)

// lostLedgerWrite is the store with the first write of Stripe's refund
// answer failing, as a database blip right after Stripe made the refund
// would; before failing it runs meanwhile (a day passing: Stripe prunes keys).
type lostLedgerWrite struct {
	*store.Store
	mu        sync.Mutex
	meanwhile func()
	failed    int
}

func (l *lostLedgerWrite) RecordStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, error) {
	rf, o, _, err := l.MoveStripeRefund(ctx, orderID, key, stripeRefundID, status)
	return rf, o, err
}

func (l *lostLedgerWrite) MoveStripeRefund(ctx context.Context, orderID, key, stripeRefundID string, status models.RefundStatus) (models.Refund, models.Order, models.RefundStatus, error) {
	l.mu.Lock()
	fail := stripeRefundID != "" && l.failed == 0
	if fail {
		l.failed++
		l.meanwhile()
	}
	l.mu.Unlock()
	if fail {
		return models.Refund{}, models.Order{}, "", errors.New("connection reset by peer")
	}
	return l.Store.MoveStripeRefund(ctx, orderID, key, stripeRefundID, status)
}

// Point 1 of the fidelity work: Stripe made the refund, the ledger write
// after it failed, and by the retry Stripe had forgotten the key. The retry
// finds the refund by its tags and adopts it: one refund at Stripe, counted
// once, however the keys went.
func TestRefundRetriedPastKeyPruningIsMadeOnce(t *testing.T) {
	ledger := &lostLedgerWrite{}
	s := newStack(t, stackOptions{activityStore: func(st *store.Store) activities.Store { ledger.Store = st; return ledger }})
	ledger.mu.Lock()
	ledger.meanwhile = func() { s.Sandbox.ExpireIdempotencyKeys("") }
	ledger.mu.Unlock()
	productID := s.product(5, 2500)
	orderID := s.purchase(s.buyer("buyer_pruned"), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
		expect(http.StatusCreated).str("order_id")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)

	res := s.refund(orderID, "r-1", 1000).expect(http.StatusOK)
	refund := res.Body["refund"].(map[string]any)
	if refund["status"] != "succeeded" {
		t.Fatalf("refund answer %s", res.Raw)
	}
	if ledger.failed != 1 {
		t.Fatalf("the ledger write failed %d times, want once", ledger.failed)
	}
	pi := s.intentRecord(orderID)
	got := s.Sandbox.Refunds(pi.ID)
	if len(got) != 1 || got[0].Amount != 1000 || got[0].ID != refund["stripe_refund_id"] {
		t.Fatalf("refunds at the sandbox %+v, want exactly one of 1000 named %v", got, refund["stripe_refund_id"])
	}
	if o := s.order(orderID); o.RefundedMinor != 1000 || pi.AmountRefunded != 1000 {
		t.Fatalf("refunded: order %d, Stripe %d; want 1000 both", o.RefundedMinor, pi.AmountRefunded)
	}
}

// Point 4: the capture meets a 500 that Stripe keeps under the key (before
// or after doing the work). The next attempt reads the intent and captures
// under its own key, or adopts the capture: captured once, order accepted.
func TestCaptureMeetingACachedServerErrorIsCapturedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults func(path string) sandbox.Faults
	}{
		{"nothing done", func(p string) sandbox.Faults { return sandbox.Faults{FailCachedNext: 1, Only: p} }},
		{"work done", func(p string) sandbox.Faults { return sandbox.Faults{FailCachedAfterNext: 1, Only: p} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, stackOptions{})
			productID := s.product(5, 1500)
			orderID := s.purchase(s.buyer("buyer_cached_"+randomHex(3)), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
				expect(http.StatusCreated).str("order_id")
			intentID := s.order(orderID).PaymentIntentID
			s.Sandbox.SetFaults(tc.faults("/v1/payment_intents/" + intentID + "/capture"))

			res := s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
			if res.Body["status"] != "accepted" {
				t.Fatalf("accept answered %s", res.Raw)
			}
			if f := s.Sandbox.Faults(); f.FailCachedNext+f.FailCachedAfterNext != 0 {
				t.Fatalf("the cached 500 was never met: %+v", f)
			}
			pi := s.intentRecord(orderID)
			o := s.order(orderID)
			if pi.Status != payments.IntentSucceeded || pi.AmountReceived != 1500 || o.Status != models.StatusAccepted || o.CapturedMinor != 1500 {
				t.Fatalf("intent %s received %d, order %s captured %d", pi.Status, pi.AmountReceived, o.Status, o.CapturedMinor)
			}
			if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
				t.Fatalf("authorizations = %d, want 1", got)
			}
			// Whichever attempt captured, the merchant got one transfer
			// and the platform one fee.
			if tr := s.transfer(t, pi.ID); tr.Amount != 1500 || tr.ApplicationFee != e2eFee.FeeFor(1500) {
				t.Fatalf("transfer %+v after a cached 500 at capture", tr)
			}
		})
	}
}

// Point 8, refunds: a refund Stripe later fails (pm_card_refundFail begins
// succeeded) stops counting once charge.refund.updated arrives: the amount
// is released in the ledger and the order shows it; a pending refund is
// reported pending, counted, and succeeded once Stripe says so — and when it
// refunds everything before shipping, the order is then cancelled and its
// stock released, as with a refund that succeeds at once.
func TestRefundLifecycleReachesTheOrder(t *testing.T) {
	for _, tc := range []struct {
		pm, answered, settled string
		amount, wantRefunded  int64
		wantStatus            string
	}{
		{"pm_card_refundFail", "succeeded", "failed", 1000, 0, "accepted"},
		{"pm_card_pendingRefund", "pending", "succeeded", 1000, 1000, "accepted"},
		{"pm_card_pendingRefund", "pending", "succeeded", 2500, 2500, "cancelled"},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.pm, tc.amount), func(t *testing.T) {
			s := newStack(t, stackOptions{webhooks: true})
			productID := s.product(5, 2500)
			orderID := s.purchase(s.buyer(fmt.Sprintf("buyer_%s_%d_%s", tc.pm, tc.amount, randomHex(3))), "key-1", purchaseBody(productID, 1, tc.pm)).
				expect(http.StatusCreated).str("order_id")
			s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)

			res := s.refund(orderID, "r-1", tc.amount).expect(http.StatusOK)
			if st := res.Body["refund"].(map[string]any)["status"]; st != tc.answered {
				t.Fatalf("refund answered %v, want %s: %s", st, tc.answered, res.Raw)
			}
			if o := s.order(orderID); o.RefundedMinor != tc.amount || o.Status != models.StatusAccepted {
				t.Fatalf("order %s refunded %d before Stripe settled, want accepted with %d counted", o.Status, o.RefundedMinor, tc.amount)
			}
			pi := s.intentRecord(orderID)
			refunds := s.Sandbox.Refunds(pi.ID)
			if len(refunds) != 1 {
				t.Fatalf("refunds %+v", refunds)
			}
			if err := s.Sandbox.SettleRefund(refunds[0].ID, "", ""); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				list, err := s.Store.Refunds(context.Background(), orderID)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) == 1 && string(list[0].Status) == tc.settled {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ledger %+v, want the refund %s", list, tc.settled)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if tc.wantStatus == "cancelled" {
				s.waitStatus(orderID, models.StatusCancelled)
				if got := s.stock(productID); got != 5 {
					t.Fatalf("stock = %d after a full refund before shipping, want 5", got)
				}
			}
			view := s.do("GET", "/v1/orders/"+orderID, s.MerchantKey, nil, nil).expect(http.StatusOK)
			if view.Body["refunded_amount"] != float64(tc.wantRefunded) || view.Body["status"] != tc.wantStatus {
				t.Fatalf("order after the refund %s: %s", tc.settled, view.Raw)
			}
			if tc.settled == "failed" {
				if !strings.Contains(view.Raw, "failed at the payment service") {
					t.Fatalf("the failure is not in the order's audit trail: %s", view.Raw)
				}
				// The released amount can be refunded again.
				s.refund(orderID, "r-2", 2500).expect(http.StatusOK)
			}
		})
	}
}

// Point 8, disputes: created, updated and closed won or lost reach the
// order (disputed, dispute_status, audit trail); while it is open Stripe
// refuses a refund (charge_disputed) and the ledger counts nothing.
func TestDisputeWonOrLostIsVisibleOnTheOrder(t *testing.T) {
	for _, won := range []bool{true, false} {
		outcome := map[bool]string{true: "won", false: "lost"}[won]
		t.Run(outcome, func(t *testing.T) {
			s := newStack(t, stackOptions{webhooks: true})
			productID := s.product(5, 2500)
			orderID := s.purchase(s.buyer("buyer_dispute_"+outcome), "key-1", purchaseBody(productID, 1, "pm_card_visa")).
				expect(http.StatusCreated).str("order_id")
			s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
			disputeID, err := s.Sandbox.Dispute(s.intentRecord(orderID).ID, "fraudulent")
			if err != nil {
				t.Fatal(err)
			}
			s.waitDispute(orderID, "needs_response", true)

			if r := s.refund(orderID, "during-dispute", 500); r.Status != http.StatusConflict || r.errorCode() != "charge_disputed" {
				t.Fatalf("refund of a disputed charge: %d %s", r.Status, r.Raw)
			}
			if o := s.order(orderID); o.RefundedMinor != 0 {
				t.Fatalf("a refused refund is counted: %d", o.RefundedMinor)
			}

			if err := s.Sandbox.UpdateDispute(disputeID, "under_review"); err != nil {
				t.Fatal(err)
			}
			s.waitDispute(orderID, "under_review", true)
			if err := s.Sandbox.CloseDispute(disputeID, won); err != nil {
				t.Fatal(err)
			}
			o := s.waitDispute(orderID, outcome, !won)
			if o.Status != models.StatusAccepted {
				t.Fatalf("a dispute changed the status to %s", o.Status)
			}
			view := s.do("GET", "/v1/orders/"+orderID, s.MerchantKey, nil, nil).expect(http.StatusOK)
			if view.Body["dispute_status"] != outcome || !strings.Contains(view.Raw, "dispute "+outcome) {
				t.Fatalf("the order does not show the dispute %s: %s", outcome, view.Raw)
			}
		})
	}
}

func (s *stack) waitDispute(orderID, status string, disputed bool) models.Order {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := s.order(orderID)
		if o.DisputeStatus == status && o.Disputed == disputed {
			return o
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order dispute %q disputed=%v, want %q disputed=%v", o.DisputeStatus, o.Disputed, status, disputed)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
