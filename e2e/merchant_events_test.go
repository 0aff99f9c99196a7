package e2e

import (
	"encoding/json"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/buybutton/checkout/models"
)

// refundedData is the part of an order.refunded body a merchant acts on.
type refundedData struct {
	Data struct {
		OrderID        string `json:"order_id"`
		RefundedAmount int64  `json:"refunded_amount"`
		Disputed       bool   `json:"disputed"`
		Refund         *struct {
			Amount        int64 `json:"amount"`
			TotalRefunded int64 `json:"total_refunded"`
		} `json:"refund"`
	} `json:"data"`
}

// eventsOfType lists the event ids of a type the merchant received, in id order.
func (m *merchantEndpoint) eventsOfType(typ string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, t := range m.types {
		if t == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (m *merchantEndpoint) body(t *testing.T, id string) refundedData {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var d refundedData
	if err := json.Unmarshal(m.bodies[id], &d); err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	return d
}

// Each refund reaches the merchant as its own signed order.refunded event,
// through Temporal, with its amount and the total so far; a retried refund
// request and a replay keep the event id, so the merchant applies it once.
func TestRefundsReachTheMerchantOnceEach(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 2500)
	orderID := s.authorizedOrder(productID, "buyer_refund_events")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)

	s.refund(orderID, "r-1", 1000).expect(http.StatusOK)
	first := s.waitDelivery(orderID, "order.refunded", func(d models.WebhookDelivery) bool {
		return d.Status == models.WebhookDelivered
	})
	s.refund(orderID, "r-2", 500).expect(http.StatusOK)
	s.refund(orderID, "r-1", 1000).expect(http.StatusOK) // the client's retry of the first request

	deadline := time.Now().Add(60 * time.Second)
	var delivered map[string]models.WebhookDelivery
	for {
		delivered = map[string]models.WebhookDelivery{}
		for _, d := range s.deliveries(orderID) {
			if d.EventType == "order.refunded" && d.Status == models.WebhookDelivered {
				delivered[d.ID] = d
			}
		}
		if len(delivered) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refund deliveries: %+v", s.deliveries(orderID))
		}
		time.Sleep(100 * time.Millisecond)
	}
	ids := hook.eventsOfType("order.refunded")
	if len(ids) != 2 {
		t.Fatalf("merchant received refund events %v, want two", ids)
	}
	_, applied, badSigs := hook.snapshot()
	if badSigs != 0 {
		t.Fatalf("%d bad signatures", badSigs)
	}
	byAmount := map[int64]refundedData{}
	for _, id := range ids {
		if _, ok := delivered[id]; !ok {
			t.Errorf("event %s is not in the delivery log %v", id, delivered)
		}
		if applied[id] != 1 {
			t.Errorf("event %s applied %d times", id, applied[id])
		}
		d := hook.body(t, id)
		if d.Data.Refund == nil || d.Data.OrderID != orderID {
			t.Fatalf("event %s body: %+v", id, d)
		}
		byAmount[d.Data.Refund.Amount] = d
	}
	if byAmount[1000].Data.Refund.TotalRefunded != 1000 || byAmount[500].Data.Refund.TotalRefunded != 1500 {
		t.Fatalf("totals: first %+v second %+v", byAmount[1000].Data.Refund, byAmount[500].Data.Refund)
	}

	// A replay of the first refund's delivery sends that refund again.
	s.do("POST", "/v1/merchant/orders/"+orderID+"/deliveries/"+first.ID+"/replay", s.MerchantKey, nil, nil).
		expect(http.StatusAccepted)
	n := len(first.Attempts)
	s.waitDelivery(orderID, "order.refunded", func(d models.WebhookDelivery) bool {
		return d.ID == first.ID && len(d.Attempts) > n && d.Status == models.WebhookDelivered
	})
	received, applied, _ := hook.snapshot()
	if received[first.ID] < 2 || applied[first.ID] != 1 {
		t.Fatalf("after replay: received %d applied %d", received[first.ID], applied[first.ID])
	}
	if got := hook.body(t, first.ID).Data.Refund; got == nil || got.Amount != 1000 || got.TotalRefunded != 1000 {
		t.Fatalf("replayed body: %+v", got)
	}
}

// Stripe's charge.dispute.created (sent by the sandbox) reaches the
// merchant as order.disputed, once, through Temporal.
func TestDisputeReachesTheMerchant(t *testing.T) {
	s := newStack(t, stackOptions{webhooks: true})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	productID := s.product(5, 1000)
	orderID := s.authorizedOrder(productID, "buyer_dispute_events")
	s.merchantAction(orderID, "accept", nil).expect(http.StatusOK)
	if _, err := s.Sandbox.Dispute(s.intentRecord(orderID).ID, "fraudulent"); err != nil {
		t.Fatal(err)
	}
	d := s.waitDelivery(orderID, "order.disputed", func(d models.WebhookDelivery) bool {
		return d.Status == models.WebhookDelivered
	})
	received, applied, _ := hook.snapshot()
	if received[d.ID] < 1 || applied[d.ID] != 1 {
		t.Fatalf("dispute event %s: received %d applied %d", d.ID, received[d.ID], applied[d.ID])
	}
	if got := hook.eventsOfType("order.disputed"); len(got) != 1 || got[0] != d.ID {
		t.Fatalf("dispute events %v, want [%s]", got, d.ID)
	}
	body := hook.body(t, d.ID)
	if !body.Data.Disputed || body.Data.OrderID != orderID {
		t.Fatalf("dispute body: %+v", body)
	}
}
