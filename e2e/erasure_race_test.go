package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/buybutton/checkout/models"
)

// One-tap purchases fired at the same moment as DELETE /v1/me/profile, over
// the real API and workflows: whichever wins, no order outlives the erasure
// with the erased address. Each order that was placed is cancelled by the
// buyer and must then hold no address.
func TestOneTapRacingErasureKeepsNoAddress(t *testing.T) {
	s := newStack(t, stackOptions{})
	productID := s.product(50, 900)
	placed := 0
	for i := range 4 {
		id := fmt.Sprintf("buyer_erase_race_%s_%d", randomHex(3), i)
		buyer := s.buyer(id)
		s.purchase(buyer, "first", purchaseBody(productID, 1, "pm_card_visa")).expect(http.StatusCreated)
		s.awaitProfile(buyer)

		var wg sync.WaitGroup
		var tap response
		wg.Add(2)
		go func() {
			defer wg.Done()
			tap = s.purchase(buyer, "tap", map[string]any{"product_id": productID, "quantity": 1})
		}()
		go func() {
			defer wg.Done()
			s.do("DELETE", "/v1/me/profile", buyer, nil, nil).expect(http.StatusNoContent)
		}()
		wg.Wait()
		if tap.Status == http.StatusUnprocessableEntity && tap.errorCode() == "profile_required" {
			continue
		}
		orderID := tap.str("order_id")
		var o models.Order
		switch tap.Status {
		case http.StatusCreated:
			placed++
			s.do("POST", "/v1/orders/"+orderID+"/cancel", buyer, nil, nil).expect(http.StatusOK)
			o = s.waitStatus(orderID, models.StatusCancelled)
		case http.StatusPaymentRequired:
			// The erasure detached the card at Stripe before it was charged.
			o = s.waitStatus(orderID, models.StatusPaymentFailed)
		default:
			t.Fatalf("one tap: %d %s", tap.Status, tap.Raw)
		}
		if o.Shipping != (models.Address{}) {
			t.Fatalf("buyer %s: order %s ended after an erasure keeps %+v", id, orderID, o.Shipping)
		}
	}
	t.Logf("%d of 4 one-tap purchases were placed before the erasure", placed)
}
