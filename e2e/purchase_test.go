package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/payments"
	"github.com/buybutton/checkout/workflows"
)

func TestPurchaseToDelivered(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 1250)
	buyer := s.buyer("buyer_ada")

	res := s.purchase(buyer, "key-1", purchaseBody(productID, 2, "pm_card_visa")).expect(http.StatusCreated)
	orderID := res.str("order_id")
	if res.str("status") != "authorized" || res.Body["amount"] != float64(2500) || res.str("currency") != "usd" {
		t.Fatalf("pay answer: %s", res.Raw)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations at the sandbox = %d, want 1", got)
	}
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock after reservation = %d, want 3", got)
	}

	// The buyer and the merchant both see it; the merchant lists it as to accept.
	s.do("GET", "/v1/orders/"+orderID, buyer, nil, nil).expect(http.StatusOK)
	list := s.do("GET", "/v1/merchant/orders?status=authorized", s.MerchantKey, nil, nil).expect(http.StatusOK)
	if !listHasOrder(list, orderID) {
		t.Fatalf("merchant list lacks %s: %s", orderID, list.Raw)
	}

	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	o := s.order(orderID)
	if o.Status != models.StatusAccepted || o.CapturedMinor != 2500 {
		t.Fatalf("after accept: status %s captured %d", o.Status, o.CapturedMinor)
	}
	if pi := s.intent(orderID); pi.Status != payments.IntentSucceeded || pi.AmountReceived != 2500 {
		t.Fatalf("sandbox intent after accept: %+v", pi)
	}

	shipped := s.merchantAction(orderID, "ship", map[string]any{"carrier": "DHL", "tracking_number": "JD0123"}).expect(http.StatusOK)
	if shipped.str("status") != "shipped" || shipped.str("tracking_number") != "JD0123" {
		t.Fatalf("ship answer: %s", shipped.Raw)
	}
	view := s.do("GET", "/v1/orders/"+orderID, buyer, nil, nil).expect(http.StatusOK)
	if view.str("carrier") != "DHL" || view.str("tracking_number") != "JD0123" {
		t.Fatalf("buyer does not see tracking: %s", view.Raw)
	}
	s.merchantAction(orderID, "deliver", nil).expect(http.StatusOK)

	s.waitWorkflowClosed(orderID)
	if o := s.order(orderID); o.Status != models.StatusDelivered {
		t.Fatalf("final status %s, want delivered", o.Status)
	}
	events, err := s.Store.OrderEvents(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	want := []models.OrderStatus{models.StatusPending, models.StatusAuthorized, models.StatusAccepted, models.StatusShipped, models.StatusDelivered}
	if !eventsEndWith(events, want[1:]) {
		t.Fatalf("audit trail %v, want it to go through %v", eventStatuses(events), want)
	}
	if got := s.stock(productID); got != 3 {
		t.Fatalf("stock after delivery = %d, want 3", got)
	}
}

func TestPurchaseDeclined(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 990)
	res := s.purchase(s.buyer("buyer_bob"), "key-1", purchaseBody(productID, 1, "pm_card_chargeDeclined"))
	res.expect(http.StatusPaymentRequired)
	if res.str("status") != "payment_failed" || res.errorCode() == "" {
		t.Fatalf("decline answer: %s", res.Raw)
	}
	orderID := res.str("order_id")
	s.waitWorkflowClosed(orderID)
	if o := s.order(orderID); o.Status != models.StatusPaymentFailed {
		t.Fatalf("status %s, want payment_failed", o.Status)
	}
	if got := s.stock(productID); got != 5 {
		t.Fatalf("stock = %d, want 5: the reservation must be released", got)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 0 {
		t.Fatalf("authorizations = %d, want 0", got)
	}
}

func TestDuplicateIdempotencyKey(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(50, 700)
	buyer := s.buyer("buyer_cy")
	body := purchaseBody(productID, 1, "pm_card_visa")

	const n = 20
	answers := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.purchase(buyer, "same-key", body)
		}()
	}
	wg.Wait()
	orderID := ""
	for _, a := range answers {
		if a.Status != http.StatusCreated {
			t.Fatalf("status %d: %s", a.Status, a.Raw)
		}
		if orderID == "" {
			orderID = a.str("order_id")
		}
		if a.str("order_id") != orderID || a.str("status") != "authorized" {
			t.Fatalf("answers differ: %s vs order %s", a.Raw, orderID)
		}
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want exactly 1", got)
	}
	if got := len(s.Sandbox.Intents()); got != 1 {
		t.Fatalf("payment intents at the sandbox = %d, want 1", got)
	}
	if got := s.stock(productID); got != 49 {
		t.Fatalf("stock = %d, want 49", got)
	}
	orders, err := s.Store.ListMerchantOrders(context.Background(), s.MerchantID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 {
		t.Fatalf("orders = %d, want 1", len(orders))
	}

	// The same key with another body is refused and changes nothing.
	other := purchaseBody(productID, 2, "pm_card_visa")
	res := s.purchase(buyer, "same-key", other).expect(http.StatusUnprocessableEntity)
	if res.errorCode() == "" {
		t.Fatalf("no error code: %s", res.Raw)
	}
	if got := s.stock(productID); got != 49 {
		t.Fatalf("stock = %d after a refused reuse, want 49", got)
	}
}

func TestInvalidTransitionsAnswer409(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(5, 500)
	buyer := s.buyer("buyer_di")
	orderID := s.purchase(buyer, "k", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")

	res := s.merchantAction(orderID, "ship", map[string]any{"carrier": "UPS", "tracking_number": "1Z"}).expect(http.StatusConflict)
	if res.errorCode() == "" {
		t.Fatalf("no error code: %s", res.Raw)
	}
	if o := s.order(orderID); o.Status != models.StatusAuthorized {
		t.Fatalf("a refused ship changed the order to %s", o.Status)
	}
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	s.merchantAction(orderID, "ship", map[string]any{"carrier": "UPS", "tracking_number": "1Z"}).expect(http.StatusOK)
	s.do("POST", "/v1/orders/"+orderID+"/cancel", buyer, nil, nil).expect(http.StatusConflict)
	if o := s.order(orderID); o.Status != models.StatusShipped || o.RefundedMinor != 0 {
		t.Fatalf("a refused cancel changed the order: %s refunded %d", o.Status, o.RefundedMinor)
	}
}

func TestStockContention(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(3, 1500)

	const buyers = 10
	answers := make([]response, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := s.buyer("buyer_" + string(rune('a'+i)))
			answers[i] = s.purchase(tok, "k", purchaseBody(productID, 1, "pm_card_visa"))
		}()
	}
	wg.Wait()
	authorized, soldOut := 0, 0
	for _, a := range answers {
		switch {
		case a.Status == http.StatusCreated && a.str("status") == "authorized":
			authorized++
		case a.Status == http.StatusConflict && a.str("status") == "sold_out":
			soldOut++
			if got := s.Sandbox.AuthorizationsFor(a.str("order_id")); got != 0 {
				t.Errorf("sold-out order %s was authorized %d times", a.str("order_id"), got)
			}
		default:
			t.Errorf("unexpected answer %d: %s", a.Status, a.Raw)
		}
	}
	if authorized != 3 || soldOut != 7 {
		t.Fatalf("authorized %d sold out %d, want 3 and 7", authorized, soldOut)
	}
	if got := s.stock(productID); got != 0 {
		t.Fatalf("stock = %d, want 0", got)
	}
	if got := len(s.Sandbox.Intents()); got != 3 {
		t.Fatalf("payment intents = %d, want 3", got)
	}
}

func TestBuyerCancelBeforeCaptureVoidsAndReleases(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(2, 4000)
	buyer := s.buyer("buyer_eve")
	orderID := s.purchase(buyer, "k", purchaseBody(productID, 2, "pm_card_visa")).expect(http.StatusCreated).str("order_id")

	res := s.do("POST", "/v1/orders/"+orderID+"/cancel", buyer, nil, map[string]any{"reason": "changed my mind"}).expect(http.StatusOK)
	if res.str("status") != "cancelled" {
		t.Fatalf("cancel answer: %s", res.Raw)
	}
	s.waitWorkflowClosed(orderID)
	if pi := s.intent(orderID); pi.Status != payments.IntentCanceled {
		t.Fatalf("intent %s, want canceled", pi.Status)
	}
	if got := s.stock(productID); got != 2 {
		t.Fatalf("stock = %d, want 2", got)
	}
	// Someone else cannot see the order at all.
	s.do("GET", "/v1/orders/"+orderID, s.buyer("buyer_mallory"), nil, nil).expect(http.StatusNotFound)
}

func TestWorkerRestartKeepsTheOrder(t *testing.T) {
	// A purchase authorized by one worker is accepted through another: the
	// order lives in Temporal and the store, not in a process.
	s := newStack(t, stackOptions{})
	productID := s.product(1, 800)
	buyer := s.buyer("buyer_fay")
	orderID := s.purchase(buyer, "k", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated).str("order_id")
	s.restartWorker()
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	if o := s.order(orderID); o.Status != models.StatusAccepted || o.CapturedMinor != 800 {
		t.Fatalf("after restart and accept: %s captured %d", o.Status, o.CapturedMinor)
	}
	if got := s.Sandbox.AuthorizationsFor(orderID); got != 1 {
		t.Fatalf("authorizations = %d, want 1", got)
	}
}

func (s *stack) intent(orderID string) sandboxIntent {
	s.t.Helper()
	for _, pi := range s.Sandbox.Intents() {
		if pi.OrderID == orderID {
			return sandboxIntent{Status: pi.Status, AmountReceived: pi.AmountReceived}
		}
	}
	s.t.Fatalf("no payment intent for order %s", orderID)
	return sandboxIntent{}
}

type sandboxIntent struct {
	Status         string
	AmountReceived int64
}

func (s *stack) waitWorkflowClosed(orderID string) {
	s.t.Helper()
	s.waitWorkflowIDClosed(workflows.WorkflowID(orderID))
}

// waitWorkflowIDClosed waits for any workflow to complete.
func (s *stack) waitWorkflowIDClosed(workflowID string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := s.Temporal.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err == nil && d.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			if d.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				s.t.Fatalf("workflow ended %s", d.WorkflowExecutionInfo.Status)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("workflow %s still running", workflowID)
}

func listHasOrder(r response, orderID string) bool {
	items, _ := r.Body["orders"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["id"] == orderID {
			return true
		}
	}
	return false
}

func eventStatuses(events []models.OrderEvent) []models.OrderStatus {
	var out []models.OrderStatus
	for _, e := range events {
		out = append(out, e.To)
	}
	return out
}

func eventsEndWith(events []models.OrderEvent, want []models.OrderStatus) bool {
	got := eventStatuses(events)
	if len(got) < len(want) {
		return false
	}
	got = got[len(got)-len(want):]
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
