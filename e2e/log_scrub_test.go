package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/buybutton/checkout/models"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(b.buf.String(), "\n")
}

func (s *stack) cardFingerprint(pmID string) string {
	s.t.Helper()
	code, pm := s.sandboxGet("/v1/payment_methods/" + pmID)
	card, _ := pm["card"].(map[string]any)
	fp, _ := card["fingerprint"].(string)
	if code != http.StatusOK || fp == "" {
		s.t.Fatalf("payment method %s has no fingerprint: %d %v", pmID, code, pm)
	}
	return fp
}

// A decline, a 3-D Secure purchase, a refund and a profile change, then
// every log line of the API, the activities and the Temporal SDK (client
// and worker, which logs failed activities with their error) is searched for
// secrets and personal data.
func TestLogsCarryNoSecretsOrPersonalData(t *testing.T) {
	logs := &lockedBuffer{}
	s := newStack(t, stackOptions{webhooks: true, logs: logs})
	productID := s.product(20, 1500)
	buyer := s.buyer("buyer_scrub_" + randomHex(4))

	declined := s.newCard("4000000000000002")
	threeDS := s.newCard("4000002760003184")
	visa := s.newCard("4242424242424242")
	mastercard := s.newCard("5555555555554444")

	body := purchaseBody(productID, 1, declined)
	body["email"], body["phone"] = "ada.scrub@example.com", "+44 20 7946 0123"
	if r := s.purchase(buyer, "scrub-decline", body); r.Status != http.StatusPaymentRequired {
		t.Fatalf("decline: %d %s", r.Status, r.Raw)
	}

	res := s.purchase(buyer, "scrub-3ds", purchaseBody(productID, 1, threeDS))
	if res.str("status") != string(models.StatusRequiresAction) || !strings.Contains(res.str("client_secret"), "_secret_") {
		t.Fatalf("3-D Secure answer: %s", res.Raw)
	}
	orderID := res.str("order_id")
	if err := s.Sandbox.Authenticate(s.intentRecord(orderID).ID, true); err != nil {
		t.Fatal(err)
	}
	s.waitStatus(orderID, models.StatusAuthorized)

	body = purchaseBody(productID, 1, visa)
	body["email"], body["phone"] = "ada.scrub@example.com", "+44 20 7946 0123"
	paid := s.purchase(buyer, "scrub-visa", body).expect(http.StatusCreated).str("order_id")
	s.merchantAction(paid, "accept", nil).expect(http.StatusOK)
	s.refund(paid, "scrub-refund", 500).expect(http.StatusOK)

	s.awaitProfile(buyer)
	s.do("PUT", "/v1/me/profile", buyer, map[string]string{"Idempotency-Key": "scrub-card"}, map[string]any{
		"shipping_address": map[string]any{"name": "Grace Hopper", "line1": "7 Harbour Lane", "city": "Arlington",
			"postal_code": "22201", "country": "US"},
		"email": "grace.scrub@example.com", "phone": "+1 703 555 0199", "payment_method": mastercard,
	}).expect(http.StatusOK)

	forbidden := []string{
		"_secret_",
		"Ada Lovelace", "12 St James Square", "SW1Y 4JH", "ada.scrub@example.com", "7946 0123",
		"Grace Hopper", "7 Harbour Lane", "grace.scrub@example.com", "555 0199",
	}
	for _, pm := range []string{declined, threeDS, visa, mastercard} {
		forbidden = append(forbidden, s.cardFingerprint(pm))
	}
	lines := logs.lines()
	if len(lines) < 20 {
		t.Fatalf("only %d log lines captured: the loggers are not wired", len(lines))
	}
	sawActivityError := false
	for _, line := range lines {
		if strings.Contains(line, "card_declined") || strings.Contains(line, "generic_decline") {
			sawActivityError = true
		}
		for _, f := range forbidden {
			if strings.Contains(line, f) {
				t.Errorf("log line shows %q: %s", f, line)
			}
		}
		for _, last4 := range []string{"0002", "3184", "4242", "4444"} {
			if strings.Contains(line, last4) && strings.Contains(line, "2040") {
				t.Errorf("log line shows a card's last 4 with its expiry: %s", line)
			}
		}
	}
	if !sawActivityError {
		t.Error("no log line mentions the decline: the Temporal SDK's logger (workflows' and activities') is not captured")
	}
}
