package e2e

import (
	"net/http"
	"testing"
)

// With production's policy, a webhook URL whose host is an IP literal in a
// special-purpose range, or plain http, is refused when set (422, its own
// code), so nothing is ever sent there. No delivery happens in this test.
func TestWebhookURLRefusedWhenSet(t *testing.T) {
	s := newStack(t, stackOptions{productionWebhooks: true})
	for _, host := range []string{
		"127.0.0.1", "10.0.0.5", "169.254.169.254", "100.64.0.1", "198.18.0.1", "192.0.0.9", "240.0.0.1",
		"[::1]", "[fd00::1]", "[64:ff9b::a9fe:a9fe]", "[2002:a00:1::1]", "[2001::1]", "[::ffff:127.0.0.1]", "localhost",
	} {
		r := s.do("PUT", "/v1/merchant/webhook", s.MerchantKey, nil, map[string]any{"url": "https://" + host + "/hooks"})
		if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "webhook_address_forbidden" {
			t.Errorf("%s: %d %s, want 422 webhook_address_forbidden", host, r.Status, r.Raw)
		}
	}
	r := s.do("PUT", "/v1/merchant/webhook", s.MerchantKey, nil, map[string]any{"url": "http://shop.example/hooks"})
	if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "webhook_https_required" {
		t.Errorf("plain http: %d %s, want 422 webhook_https_required", r.Status, r.Raw)
	}
	s.do("PUT", "/v1/merchant/webhook", s.MerchantKey, nil, map[string]any{"url": "https://shop.example/hooks"}).expect(http.StatusOK)
	s.do("PUT", "/v1/merchant/webhook", s.MerchantKey, nil, map[string]any{"url": "ftp://shop.example/hooks"}).expect(http.StatusBadRequest)
}
