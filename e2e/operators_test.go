package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/workflows"
)

// An operator finds a purchase in Temporal UI by the README's visibility
// queries and recognises it by its memo, which holds no personal data.
func TestOperatorFindsOrdersByVisibilityQueriesAndMemo(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 20000)
	orderID := s.purchase(s.buyer("buyer_op"), "k", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	wfID := workflows.WorkflowID(orderID)

	d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), wfID, "")
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.NewDataConverter(s.Ring)
	var memoOrder, memoTitle string
	if err := dc.FromPayload(d.WorkflowExecutionInfo.Memo.GetFields()["order_id"], &memoOrder); err != nil {
		t.Fatalf("memo order_id: %v", err)
	}
	if err := dc.FromPayload(d.WorkflowExecutionInfo.Memo.GetFields()["product_title"], &memoTitle); err != nil {
		t.Fatalf("memo product_title: %v", err)
	}
	if memoOrder != orderID || memoTitle != "Mug" {
		t.Fatalf("memo order %q title %q", memoOrder, memoTitle)
	}

	awaiting := fmt.Sprintf(`MerchantID = %q AND OrderStatus = "authorized"`, s.MerchantID)
	s.expectQueryFinds(awaiting, wfID)
	s.expectQueryFinds(fmt.Sprintf(`MerchantID = %q AND AmountMinor >= 20000 AND Currency = "usd"`, s.MerchantID), wfID)

	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.expectQueryFinds(fmt.Sprintf(`MerchantID = %q AND OrderStatus = "accepted"`, s.MerchantID), wfID)
	s.expectQueryFinds(awaiting, "") // no longer awaiting acceptance
}

// expectQueryFinds polls visibility (eventually consistent) until query
// returns exactly the workflow want, or nothing when want is empty.
func (s *stack) expectQueryFinds(query, want string) {
	s.t.Helper()
	var got []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		res, err := s.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			s.t.Fatalf("query %s: %v", query, err)
		}
		got = got[:0]
		for _, e := range res.Executions {
			got = append(got, e.Execution.WorkflowId)
		}
		if (want == "" && len(got) == 0) || (len(got) == 1 && got[0] == want) {
			return
		}
	}
	s.t.Fatalf("query %s found %v, want [%s]", query, got, want)
}
