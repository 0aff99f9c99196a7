package checkoutwebhook_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buybutton/checkout/checkoutwebhook"
	"github.com/buybutton/checkout/notify"
)

var at = time.Unix(1_700_000_000, 0)

// The sender's signature (package notify) is what this package verifies.
func TestVerifyAgreesWithSender(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"order.created"}`)
	header := notify.Sign("whsec_a", at, body)
	cases := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", "whsec_a", header, string(body), at, nil},
		{"valid within tolerance", "whsec_a", header, string(body), at.Add(4 * time.Minute), nil},
		{"wrong secret", "whsec_b", header, string(body), at, checkoutwebhook.ErrNoMatch},
		{"tampered body", "whsec_a", header, strings.Replace(string(body), "created", "cancelled", 1), at, checkoutwebhook.ErrNoMatch},
		{"too old", "whsec_a", header, string(body), at.Add(6 * time.Minute), checkoutwebhook.ErrTooOld},
		{"from the future", "whsec_a", header, string(body), at.Add(-6 * time.Minute), checkoutwebhook.ErrTooOld},
		{"no v1", "whsec_a", "t=1700000000", string(body), at, checkoutwebhook.ErrMalformedHeader},
		{"empty", "whsec_a", "", string(body), at, checkoutwebhook.ErrMalformedHeader},
		{"second v1 matches", "whsec_a", "t=1700000000,v1=00ff," + strings.Split(header, ",")[1], string(body), at, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkoutwebhook.Verify(tc.secret, tc.header, []byte(tc.body), 0, tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// A merchant's endpoint: verify, then apply each event id once.
func Example() {
	secret := "whsec_from_PUT_v1_merchant_webhook"
	var mu sync.Mutex
	applied := map[string]bool{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		ev, err := checkoutwebhook.Parse(secret, r.Header, body, 0)
		if err != nil {
			http.Error(w, "bad signature", http.StatusBadRequest) // 4xx: not retried
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !applied[ev.ID] { // retries and replays carry the same id
			applied[ev.ID] = true
			fmt.Println("fulfil", ev.Type)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"id":"evt_ord_1_order.created","type":"order.created","created":1700000000,"data":{}}`
	for range 2 { // the same event delivered twice
		req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		req.Header.Set(checkoutwebhook.SignatureHeader, notify.Sign(secret, time.Now(), []byte(body)))
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Output: fulfil order.created
}

// Sign is what the checkout sends and what Verify accepts; a merchant's own
// tests can sign requests with it.
func TestSignRoundTrip(t *testing.T) {
	body := []byte(`{"id":"evt_2","type":"order.refunded"}`)
	header := checkoutwebhook.Sign("whsec_a", at, body)
	if !strings.HasPrefix(header, "t=1700000000,v1=") {
		t.Fatalf("header %q", header)
	}
	if err := checkoutwebhook.Verify("whsec_a", header, body, time.Minute, at); err != nil {
		t.Fatalf("own signature rejected: %v", err)
	}
	if header != notify.Sign("whsec_a", at, body) {
		t.Fatal("merchant package and sender sign differently")
	}
}
