package e2e

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
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
		"purchase-sold-out": func(productID string) string {
			s.authorizedOrder(productID, "buyer_hist_"+randomHex(4)) // not recorded; leaves none
			res := s.purchase(s.buyer("buyer_hist_"+randomHex(4)), "key-"+randomHex(6), purchaseBody(productID, 1, "pm_card_visa"))
			res.expect(http.StatusConflict)
			return res.str("order_id")
		},
		"purchase-cancelled-before-capture": func(productID string) string {
			buyer := "buyer_hist_" + randomHex(4)
			id := s.authorizedOrder(productID, buyer)
			s.do("POST", "/v1/orders/"+id+"/cancel", s.buyer(buyer), nil, nil).expect(http.StatusOK)
			return id
		},
		"purchase-3ds-failed": func(productID string) string {
			id, intentID := s.buy3DS(productID)
			if err := s.Sandbox.Authenticate(intentID, false); err != nil {
				t.Fatal(err)
			}
			s.waitStatus(id, models.StatusPaymentFailed)
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
	// Lives that end on a timer run on a stack of their own whose timers are
	// short; everything else on the first.
	var short *stack
	timed := map[string]func(s *stack, productID string) string{
		"purchase-expired": func(s *stack, productID string) string {
			id := s.authorizedOrder(productID, "buyer_hist_"+randomHex(4))
			s.waitStatus(id, models.StatusExpired)
			return id
		},
		"purchase-3ds-abandoned": func(s *stack, productID string) string {
			id, _ := s.buy3DS(productID)
			s.waitStatus(id, models.StatusExpired)
			return id
		},
	}
	// Lives of the other workflows; each returns its workflow id.
	savedBuyer := func() (string, string) {
		buyer := "buyer_hist_" + randomHex(4)
		tok := s.buyer(buyer)
		body := purchaseBody(s.product(5, 1500), 1, "pm_card_visa")
		body["save_details"] = true
		id := s.purchase(tok, "key-"+randomHex(6), body).expect(http.StatusCreated).str("order_id")
		s.merchantAction(id, "reject", map[string]any{"reason": "closing the history"}).expect(http.StatusOK)
		s.awaitProfile(tok)
		return buyer, tok
	}
	workflowLives := map[string]func() string{
		"profile-card-change": func() string {
			buyer, tok := savedBuyer()
			s.do("PUT", "/v1/me/profile", tok, map[string]string{"Idempotency-Key": "card-1"},
				map[string]any{"payment_method": s.newCard("5555555555554444")}).expect(http.StatusOK)
			// The request key is the API's (Idempotency-Key and card):
			// find the buyer's card change by its id's prefix.
			return s.findWorkflow(workflows.ProfileCardWorkflowName, "profile-card-"+models.TextID(buyer)+"-")
		},
		"profile-erasure": func() string {
			buyer, tok := savedBuyer()
			p := s.savedProfile(buyer)
			s.do("DELETE", "/v1/me/profile", tok, nil, nil).expect(http.StatusNoContent)
			return workflows.ProfileErasureWorkflowID(p.ID)
		},
	}
	for _, name := range worker.RecordedHistories {
		if workflowLife, ok := workflowLives[name]; ok {
			t.Run(name, func(t *testing.T) {
				wid := workflowLife()
				s.waitWorkflowIDClosed(wid)
				recordHistory(t, name, s.history(wid))
			})
			continue
		}
		life, ok := lives[name]
		on := s
		if timedLife, isTimed := timed[name]; isTimed {
			if short == nil {
				short = newStack(t, stackOptions{webhooks: true, plainPayloads: true,
					acceptTimeout: 2 * time.Second, paymentActionTimeout: 2 * time.Second})
			}
			on, ok = short, true
			life = func(productID string) string { return timedLife(short, productID) }
		}
		if !ok {
			t.Fatalf("no purchase life for recorded history %s", name)
		}
		stock := 5
		if name == "purchase-sold-out" {
			stock = 1
		}
		t.Run(name, func(t *testing.T) {
			orderID := life(on.product(stock, 1500))
			on.waitWorkflowClosed(orderID)
			workflowID := workflows.WorkflowID(orderID)
			if after, ok := others[name]; ok {
				workflowID = after(orderID)
			}
			recordHistory(t, name, on.history(workflowID))
		})
	}
}

// recordHistory replays a history just made against this build and, with
// -record-histories, writes it where the replay test reads it.
func recordHistory(t *testing.T, name string, h *historypb.History) {
	t.Helper()
	// Written as the server gave it, before replaying: the SDK's replay
	// merges the upserted search attributes into the started event it
	// was given.
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	r := sdkworker.NewWorkflowReplayer()
	worker.RegisterWorkflows(r, workflows.Timing{})
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("the history just made does not replay: %v", err)
	}
	if *recordHistories {
		if err := os.WriteFile(filepath.Join("..", "worker", "testdata", "histories", name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// findWorkflow returns the id of a workflow of the type whose id starts
// with prefix, waiting for visibility to list it.
func (s *stack) findWorkflow(workflowType, prefix string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := s.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = '" + workflowType + "'", PageSize: 1000,
		})
		if err != nil {
			s.t.Fatal(err)
		}
		for _, e := range res.Executions {
			if strings.HasPrefix(e.Execution.WorkflowId, prefix) {
				return e.Execution.WorkflowId
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("no %s workflow with id %s…", workflowType, prefix)
	return ""
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
