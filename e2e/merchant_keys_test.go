package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func (s *stack) auditTypes(key string) []string {
	s.t.Helper()
	res := s.do("GET", "/v1/merchant/audit-events", key, nil, nil).expect(http.StatusOK)
	var types []string
	events, _ := res.Body["events"].([]any)
	for _, e := range events {
		ev, _ := e.(map[string]any)
		typ, _ := ev["type"].(string)
		types = append(types, typ)
	}
	return types
}

// A merchant key leaks; the merchant rotates as the README says. The leaked
// key, now in its grace period, can still read and fulfil (a deploy running
// it keeps working) but cannot rotate, revoke, move the webhook, refund or
// create products; the merchant revokes it and it is dead.
func TestLeakedMerchantKeyCannotTakeOverTheAccount(t *testing.T) {
	s := newStack(t, stackOptions{})
	leaked := s.MerchantKey
	product := s.product(5, 1500)
	order := s.authorizedOrder(product, "buyer_leak")

	fresh := s.do("POST", "/v1/merchant/keys/rotate", leaked, nil, nil).expect(http.StatusOK).str("api_key")

	// The attacker's moves with the leaked key.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/merchant/keys/rotate", map[string]any{"grace_period_seconds": 0}},
		{"POST", "/v1/merchant/keys/revoke", nil},
		{"PUT", "/v1/merchant/webhook", map[string]any{"url": "https://attacker.example/hook"}},
		{"POST", "/v1/merchant/orders/" + order + "/refund", map[string]any{"amount": 100}},
		{"POST", "/v1/products", map[string]any{"title": "Fake", "price": 100, "currency": "usd", "stock": 1}},
		{"POST", "/v1/merchant/orders/" + order + "/deliveries/evt_x/replay", nil},
	} {
		res := s.do(c.method, c.path, leaked, map[string]string{"Idempotency-Key": "leak-" + randomHex(4)}, c.body)
		if res.Status != http.StatusForbidden || res.errorCode() != "key_retired" {
			t.Fatalf("%s %s with the rotated-away key: %d %s, want 403 key_retired", c.method, c.path, res.Status, res.Raw)
		}
	}
	// What a staged deploy still needs works.
	s.do("GET", "/v1/merchant/orders", leaked, nil, nil).expect(http.StatusOK)
	s.do("POST", "/v1/merchant/orders/"+order+"/accept", leaked, nil, nil).expect(http.StatusOK)

	// The merchant sees both keys and ends the leaked one.
	keys := s.do("GET", "/v1/merchant/keys", leaked, nil, nil).expect(http.StatusOK)
	leakedID := keys.str("caller_key_id")
	revoked := s.do("POST", "/v1/merchant/keys/revoke", fresh, nil, map[string]any{"key_id": leakedID}).expect(http.StatusOK)
	if got, _ := revoked.Body["revoked"].([]any); len(got) != 1 || got[0] != leakedID {
		t.Fatalf("revoked %s, want [%s]", revoked.Raw, leakedID)
	}
	s.do("GET", "/v1/merchant/orders", leaked, nil, nil).expect(http.StatusUnauthorized)
	s.do("POST", "/v1/merchant/orders/"+order+"/ship", leaked, nil,
		map[string]any{"carrier": "DHL", "tracking_number": "1"}).expect(http.StatusUnauthorized)

	// The merchant is in control: webhook and keys are theirs.
	s.do("PUT", "/v1/merchant/webhook", fresh, nil, map[string]any{"url": "https://shop.example/hooks"}).expect(http.StatusOK)
	if got := s.auditTypes(fresh); len(got) != 3 || got[0] != "webhook.updated" || got[1] != "key.revoked" || got[2] != "key.rotated" {
		t.Fatalf("audit trail %v", got)
	}
}

// The leaked key was the current one and the attacker rotated first, locking
// the merchant out: an operator ends every key and hands the merchant a new
// one.
func TestOperatorResetEndsAnAttackersKey(t *testing.T) {
	s := newStack(t, stackOptions{})
	attackers := s.do("POST", "/v1/merchant/keys/rotate", s.MerchantKey, nil,
		map[string]any{"grace_period_seconds": 0}).expect(http.StatusOK).str("api_key")
	s.do("GET", "/v1/merchant/orders", s.MerchantKey, nil, nil).expect(http.StatusUnauthorized)

	s.do("POST", "/v1/admin/merchants/"+s.MerchantID+"/keys/reset", attackers, nil, nil).expect(http.StatusUnauthorized)
	res := s.do("POST", "/v1/admin/merchants/"+s.MerchantID+"/keys/reset", e2eOperatorToken, nil, nil).expect(http.StatusOK)
	restored := res.str("api_key")

	s.do("GET", "/v1/merchant/orders", attackers, nil, nil).expect(http.StatusUnauthorized)
	s.do("GET", "/v1/merchant/orders", restored, nil, nil).expect(http.StatusOK)
	if got := s.auditTypes(restored); len(got) != 2 || got[0] != "keys.reset_by_operator" || got[1] != "key.rotated" {
		t.Fatalf("audit trail %v", got)
	}
	s.do("POST", "/v1/admin/merchants/mer_nobody/keys/reset", e2eOperatorToken, nil, nil).expect(http.StatusNotFound)
}

// Every key change reaches the merchant's webhook as a signed account event,
// in the order the changes happened, naming the keys by id (never a key).
func TestKeyChangesAreAnnouncedToTheMerchant(t *testing.T) {
	s := newStack(t, stackOptions{})
	hook := newMerchantEndpoint(t, 0)
	s.setWebhook(hook)
	fresh := s.do("POST", "/v1/merchant/keys/rotate", s.MerchantKey, nil, nil).expect(http.StatusOK).str("api_key")
	s.do("POST", "/v1/merchant/keys/revoke", fresh, nil, nil).expect(http.StatusOK)

	want := []string{"merchant.webhook.updated", "merchant.key.rotated", "merchant.key.revoked"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		hook.mu.Lock()
		var got []string
		var bodies []string
		for _, ev := range hook.arrived {
			got = append(got, ev.Type)
			bodies = append(bodies, string(ev.Data))
		}
		hook.mu.Unlock()
		if len(got) >= len(want) {
			if !slices.Equal(got, want) {
				t.Fatalf("merchant received %v, want %v", got, want)
			}
			for _, b := range bodies {
				if strings.Contains(b, fresh) || strings.Contains(b, s.MerchantKey) {
					t.Fatalf("an account event carries a key: %s", b)
				}
			}
			if !strings.Contains(bodies[1], `"key_id":"mkid_`) {
				t.Fatalf("key.rotated names no key id: %s", bodies[1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("merchant received %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
