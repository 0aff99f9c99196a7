package api

import (
	"context"
	"sort"
	"time"

	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/store"
)

// The parts of Store beyond orders and products. Tests that need them in
// depth configure their own (Config.Profiles, Config.StripeEvents); these
// answer like an empty store.

func (s *fakeStore) CreateMerchant(context.Context, string, string) (models.Merchant, string, error) {
	return models.Merchant{}, "", models.Errorf(models.KindUnavailable, "fake", "not supported by the fake store")
}

func (s *fakeStore) RotateMerchantKey(context.Context, string, string, time.Duration) (string, time.Time, error) {
	return "", time.Time{}, errFakeUnsupported
}

func (s *fakeStore) RevokeMerchantKey(context.Context, string, string, string) ([]string, error) {
	return nil, errFakeUnsupported
}

func (s *fakeStore) ResetMerchantKeys(context.Context, string) (string, error) {
	return "", errFakeUnsupported
}

func (s *fakeStore) MerchantKeys(context.Context, string) ([]models.MerchantKey, error) {
	return nil, errFakeUnsupported
}

func (s *fakeStore) MerchantAuditEvents(context.Context, string) ([]models.MerchantAuditEvent, error) {
	return nil, errFakeUnsupported
}

var errFakeUnsupported = models.Errorf(models.KindUnavailable, "fake", "not supported by the fake store")

func (s *fakeStore) SetMerchantWebhook(context.Context, string, string, string) (models.Merchant, string, error) {
	return models.Merchant{}, "", models.Errorf(models.KindUnavailable, "fake", "not supported by the fake store")
}

// MerchantOrdersPage filters like the store (merchant, status, newest first)
// without time bounds or cursors.
func (s *fakeStore) MerchantOrdersPage(_ context.Context, p store.OrderPage) ([]models.Order, bool, error) {
	return s.ordersPage(p.Limit, func(o models.Order) bool {
		return o.MerchantID == p.MerchantID && (p.Status == "" || o.Status == p.Status)
	})
}

// BuyerOrdersPage lists one buyer's orders, newest first, without cursors.
func (s *fakeStore) BuyerOrdersPage(_ context.Context, buyerID string, p store.OrderPage) ([]models.Order, bool, error) {
	return s.ordersPage(p.Limit, func(o models.Order) bool { return o.BuyerID == buyerID })
}

func (s *fakeStore) ordersPage(limit int, keep func(models.Order) bool) ([]models.Order, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []models.Order{}
	for _, o := range s.orders {
		if keep(o) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func (s *fakeStore) WebhookDeliveries(context.Context, string) ([]models.WebhookDelivery, error) {
	return nil, nil
}

func (s *fakeStore) WebhookDelivery(context.Context, string, string) (models.WebhookDelivery, error) {
	return models.WebhookDelivery{}, models.NotFound("webhook delivery")
}

func (s *fakeStore) Profile(context.Context, string) (models.Profile, error) {
	return models.Profile{}, models.NotFound("profile")
}

func (s *fakeStore) ProfileForPurchase(ctx context.Context, buyerID, _ string) (models.Profile, error) {
	return s.Profile(ctx, buyerID)
}

func (s *fakeStore) UpdateProfile(context.Context, models.Profile) (models.Profile, error) {
	return models.Profile{}, models.NotFound("profile")
}

func (s *fakeStore) EraseProfile(context.Context, string) (store.ErasedProfile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erasures++
	return store.ErasedProfile{}, nil
}

func (s *fakeStore) ClaimStripeEvent(context.Context, string, string, string, time.Time, time.Duration) (store.StripeEventClaim, error) {
	return store.StripeEventClaimed, nil
}
func (s *fakeStore) MarkStripeEventHandled(context.Context, string, time.Time) error { return nil }
func (s *fakeStore) ReleaseStripeEvent(context.Context, string) error                { return nil }
func (s *fakeStore) OrderIDByPaymentIntent(context.Context, string) (string, error) {
	return "", models.NotFound("order")
}
func (s *fakeStore) MarkDisputed(context.Context, string, string) (models.Order, error) {
	return models.Order{}, models.NotFound("order")
}
func (s *fakeStore) RecordDispute(context.Context, string, string, string) (models.Order, error) {
	return models.Order{}, models.NotFound("order")
}
func (s *fakeStore) RecordStripeRefundByID(context.Context, string, string, models.RefundStatus) (models.Refund, models.Order, error) {
	return models.Refund{}, models.Order{}, models.NotFound("refund")
}
func (s *fakeStore) AddOrderNote(context.Context, string, string, string) error {
	return models.NotFound("order")
}
