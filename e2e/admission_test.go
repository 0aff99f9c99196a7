package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

// TestOverloadIsRefusedWithRetryAfterAndNothingIsLost: with room for two
// purchases at a time, 30 buyers buy at once. Every answer is an
// authorization or a 503 busy with Retry-After; a refused purchase left
// nothing behind (no order, no workflow, no stock taken), and its retry with
// the same Idempotency-Key is authorized. Stock adds up.
func TestOverloadIsRefusedWithRetryAfterAndNothingIsLost(t *testing.T) {
	s := newStack(t, stackOptions{admission: api.AdmissionLimits{Initial: 2, Min: 2, Max: 2}})
	const buyers, stock = 30, 100
	productID := s.product(stock, 1500)

	type outcome struct {
		buyer, key string
		res        response
	}
	outs := make([]outcome, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buyer, key := fmt.Sprintf("buyer-overload-%d", i), fmt.Sprintf("overload-%d", i)
			outs[i] = outcome{buyer, key, s.purchase(s.buyer(buyer), key, purchaseBody(productID, 1, "pm_card_visa"))}
		}()
	}
	wg.Wait()

	var authorized, refused []outcome
	for _, o := range outs {
		switch o.res.Status {
		case http.StatusCreated:
			authorized = append(authorized, o)
		case http.StatusServiceUnavailable:
			if code := o.res.errorCode(); code != "busy" {
				t.Errorf("%s: 503 with code %q, want busy", o.key, code)
			}
			if secs, err := strconv.Atoi(o.res.Header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("%s: 503 with Retry-After %q, want whole seconds ≥ 1", o.key, o.res.Header.Get("Retry-After"))
			}
			refused = append(refused, o)
		default:
			t.Errorf("%s: HTTP %d %s, want 201 or 503", o.key, o.res.Status, o.res.Raw)
		}
	}
	if len(refused) == 0 {
		t.Fatalf("30 purchases at once with room for 2 were all admitted; the test proves nothing")
	}
	ctx := context.Background()
	for _, o := range refused {
		id := models.OrderIDFromIdempotencyKey(o.buyer, o.key)
		if _, err := s.Store.Order(ctx, id); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("refused purchase %s left an order behind: %v", o.key, err)
		}
		if _, err := s.Temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), ""); err == nil {
			t.Errorf("refused purchase %s started a workflow", o.key)
		}
	}
	if got, want := s.stock(productID), stock-len(authorized); got != want {
		t.Fatalf("stock %d after %d authorized, want %d", got, len(authorized), want)
	}
	// The refused buyers retry, one at a time, with the same keys.
	for _, o := range refused {
		s.purchase(s.buyer(o.buyer), o.key, purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
	}
	if got := s.stock(productID); got != stock-buyers {
		t.Fatalf("stock %d after all %d bought once, want %d", got, buyers, stock-buyers)
	}
	t.Logf("%d authorized at once, %d refused with Retry-After and authorized on retry", len(authorized), len(refused))
}
