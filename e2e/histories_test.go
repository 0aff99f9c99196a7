package e2e

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/worker"
	"github.com/buybutton/checkout/workflows"
)

var recordHistories = flag.Bool("record-histories", false,
	"write the histories of TestRecordedHistories to worker/testdata/histories for the replay test")

// TestRecordedHistories runs each purchase life the replay test keeps a
// history of, over the real stack, and replays the history it produced
// against the workflow code in this build. With -record-histories it also
// writes them where worker's TestRecordedHistoriesReplay reads them; commit
// them when a release is cut, so later changes must keep replaying them.
func TestRecordedHistories(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true, plainPayloads: true})
	lives := map[string]func(productID string) string{
		"purchase-delivered": func(productID string) string {
			id := s.authorizedOrder(productID, "buyer_hist_"+randomHex(4))
			s.merchantAction(id, "accept", nil).expect(http.StatusOK)
			s.merchantAction(id, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z999"}).expect(http.StatusOK)
			s.merchantAction(id, "deliver", nil).expect(http.StatusOK)
			return id
		},
		"purchase-rejected": func(productID string) string {
			id := s.authorizedOrder(productID, "buyer_hist_"+randomHex(4))
			s.merchantAction(id, "reject", map[string]any{"reason": "cannot ship"}).expect(http.StatusOK)
			return id
		},
		"purchase-cancelled-after-capture": func(productID string) string {
			buyer := "buyer_hist_" + randomHex(4)
			id := s.authorizedOrder(productID, buyer)
			s.merchantAction(id, "accept", nil).expect(http.StatusOK)
			s.do("POST", "/v1/orders/"+id+"/cancel", s.buyer(buyer), nil, nil).expect(http.StatusOK)
			return id
		},
		"purchase-declined": func(productID string) string {
			res := s.purchase(s.buyer("buyer_hist_"+randomHex(4)), "key-"+randomHex(6), purchaseBody(productID, 1, "pm_card_chargeDeclined"))
			res.expect(http.StatusPaymentRequired)
			return res.str("order_id")
		},
		"purchase-3ds-authorized": func(productID string) string {
			id, intentID := s.buy3DS(productID)
			if err := s.Sandbox.Authenticate(intentID, true); err != nil {
				t.Fatal(err)
			}
			s.waitStatus(id, models.StatusAuthorized)
			s.merchantAction(id, "reject", map[string]any{"reason": "closing the history"}).expect(http.StatusOK)
			return id
		},
		"purchase-saved-details": func(productID string) string {
			body := purchaseBody(productID, 1, "pm_card_visa")
			body["save_details"] = true
			res := s.purchase(s.buyer("buyer_hist_"+randomHex(4)), "key-"+randomHex(6), body).expect(http.StatusCreated)
			id := res.str("order_id")
			s.merchantAction(id, "reject", map[string]any{"reason": "closing the history"}).expect(http.StatusOK)
			return id
		},
	}
	lives["purchase-refunded-then-delivered"] = func(productID string) string {
		id := s.authorizedOrder(productID, "buyer_hist_"+randomHex(4))
		s.merchantAction(id, "accept", nil).expect(http.StatusOK)
		s.refund(id, "r-1", 500).expect(http.StatusOK)
		s.merchantAction(id, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z999"}).expect(http.StatusOK)
		s.merchantAction(id, "deliver", nil).expect(http.StatusOK)
		return id
	}
	lives["purchase-disputed-then-delivered"] = func(productID string) string {
		id := s.authorizedOrder(productID, "buyer_hist_"+randomHex(4))
		s.merchantAction(id, "accept", nil).expect(http.StatusOK)
		if _, err := s.Sandbox.Dispute(s.intentRecord(id).ID, "fraudulent"); err != nil {
			t.Fatal(err)
		}
		s.waitDispute(id, models.DisputeNeedsResponse, true)
		s.merchantAction(id, "ship", map[string]any{"carrier": "ups", "tracking_number": "1Z999"}).expect(http.StatusOK)
		s.merchantAction(id, "deliver", nil).expect(http.StatusOK)
		return id
	}
	// Histories of other workflows than the order's: the order they are
	// about, and the workflow whose history is kept.
	others := map[string]func(orderID string) string{
		"ended-order-refund": func(orderID string) string {
			s.refund(orderID, "late", 300).expect(http.StatusOK)
			return workflows.EndedOrderWorkflowID(orderID, workflows.RefundUpdateID("late"))
		},
	}
	lives["ended-order-refund"] = lives["purchase-delivered"]
	for _, name := range worker.RecordedHistories {
		life, ok := lives[name]
		if !ok {
			t.Fatalf("no purchase life for recorded history %s", name)
		}
		t.Run(name, func(t *testing.T) {
			orderID := life(s.product(5, 1500))
			s.waitWorkflowClosed(orderID)
			workflowID := workflows.WorkflowID(orderID)
			if after, ok := others[name]; ok {
				workflowID = after(orderID)
			}
			h := s.history(workflowID)
			r := sdkworker.NewWorkflowReplayer()
			worker.RegisterWorkflows(r, workflows.Timing{})
			if err := r.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatalf("the history just made does not replay: %v", err)
			}
			if *recordHistories {
				b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("..", "worker", "testdata", "histories", name+".json"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func (s *stack) history(workflowID string) *historypb.History {
	s.t.Helper()
	it := s.Temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}
