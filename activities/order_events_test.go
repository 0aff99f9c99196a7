package activities

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/buybutton/checkout/models"
)

// listedStore is the fake store with a refund ledger to read, oldest first.
type listedStore struct {
	*fakeStore
	refunds []models.Refund
}

func (s *listedStore) Refunds(context.Context, string) ([]models.Refund, error) {
	return s.refunds, nil
}

func TestNotifyMerchantOfARefund(t *testing.T) {
	env, a, d := newEnv(t)
	st := &listedStore{fakeStore: d.store, refunds: []models.Refund{
		{Key: "r-1", AmountMinor: 300, Currency: "usd", Status: models.RefundSucceeded},
		{Key: "r-x", AmountMinor: 900, Currency: "usd", Status: models.RefundFailed},
		{Key: "r-2", AmountMinor: 500, Currency: "usd", Reason: "damaged", Status: models.RefundSucceeded},
	}}
	a.Store = st
	log := &fakeDeliveryLog{}
	a.Deliveries = log
	d.store.orders["ord_1"] = models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusDelivered,
		CapturedMinor: 2000, RefundedMinor: 800, Currency: "usd"}

	for range 2 { // a retry sends the same id and body
		_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.refunded", Ref: RefundRef("r-2")})
		require.NoError(t, err)
	}
	require.Len(t, d.notifier.sent, 2)
	ev := d.notifier.sent[0].ev
	assert.Equal(t, "evt_ord_1_order.refunded_"+RefundRef("r-2"), ev.ID)
	assert.Equal(t, "evt_ord_1_order.refunded_"+RefundRef("r-2"), log.attempts[0].DeliveryID)
	first, _ := json.Marshal(ev.Data)
	second, _ := json.Marshal(d.notifier.sent[1].ev.Data)
	assert.JSONEq(t, string(first), string(second))

	var data struct {
		RefundedAmount int64 `json:"refunded_amount"`
		Refund         struct {
			Amount        int64  `json:"amount"`
			TotalRefunded int64  `json:"total_refunded"`
			Currency      string `json:"currency"`
			Reason        string `json:"reason"`
		} `json:"refund"`
	}
	require.NoError(t, json.Unmarshal(first, &data))
	assert.Equal(t, int64(500), data.Refund.Amount)
	assert.Equal(t, int64(800), data.Refund.TotalRefunded, "this refund and the successful one before it")
	assert.Equal(t, "usd", data.Refund.Currency)
	assert.Equal(t, "damaged", data.Refund.Reason)

	// The first refund's event says what was true then.
	_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.refunded", Ref: RefundRef("r-1")})
	require.NoError(t, err)
	b, _ := json.Marshal(d.notifier.sent[2].ev.Data)
	require.NoError(t, json.Unmarshal(b, &data))
	assert.Equal(t, int64(300), data.Refund.Amount)
	assert.Equal(t, int64(300), data.Refund.TotalRefunded)
}

func TestNotifyMerchantOfAnUnknownRefundFails(t *testing.T) {
	env, a, d := newEnv(t)
	a.Store = &listedStore{fakeStore: d.store, refunds: []models.Refund{
		{Key: "r-x", AmountMinor: 900, Status: models.RefundFailed},
	}}
	d.store.orders["ord_1"] = models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusDelivered}
	_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.refunded", Ref: RefundRef("r-x")})
	assertKind(t, err, models.KindNotFound, "refund_not_found")
	assert.Empty(t, d.notifier.sent, "nothing half-described is sent")
}

func TestNotifyMerchantOfADispute(t *testing.T) {
	env, a, d := newEnv(t)
	d.store.orders["ord_1"] = models.Order{ID: "ord_1", MerchantID: "mer_1", Status: models.StatusDelivered, Disputed: true}
	_, err := env.ExecuteActivity(a.NotifyMerchant, NotifyInput{OrderID: "ord_1", EventType: "order.disputed", Ref: DisputeRef("dp_1")})
	require.NoError(t, err)
	require.Len(t, d.notifier.sent, 1)
	ev := d.notifier.sent[0].ev
	assert.Equal(t, "evt_ord_1_order.disputed_"+DisputeRef("dp_1"), ev.ID)
	assert.True(t, ev.Data.(WebhookOrder).Disputed)
	assert.Nil(t, ev.Data.(WebhookOrder).Refund)
}

func TestEventReferences(t *testing.T) {
	id := OccurrenceEventID("ord_1", "order.refunded", RefundRef("r-1"))
	assert.Equal(t, RefundRef("r-1"), RefFromEventID("ord_1", "order.refunded", id))
	assert.Equal(t, "", RefFromEventID("ord_1", "order.created", EventID("ord_1", "order.created")))
	assert.Equal(t, EventID("ord_1", "order.created"), OccurrenceEventID("ord_1", "order.created", ""))
	assert.NotEqual(t, RefundRef("a"), DisputeRef("a"))
}
