package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/buybutton/checkout/checkoutwebhook"
	"github.com/buybutton/checkout/models"
)

var signedAt = time.Unix(1_700_000_000, 0)

func TestSignFormat(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	h := hmac.New(sha256.New, []byte("whsec_test"))
	h.Write([]byte(`1700000000.{"id":"evt_1"}`))
	want := "t=1700000000,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := Sign("whsec_test", signedAt, body); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"order.paid"}`)
	header := Sign("whsec_test", signedAt, body)
	other := Sign("whsec_old", signedAt, body)
	cases := []struct {
		name      string
		secret    string
		header    string
		body      string
		tolerance time.Duration
		now       time.Time
		ok        bool
	}{
		{"round trip", "whsec_test", header, string(body), time.Minute, signedAt.Add(30 * time.Second), true},
		{"default tolerance", "whsec_test", header, string(body), 0, signedAt.Add(4 * time.Minute), true},
		{"rotated secret, both signatures", "whsec_test", other + "," + header[len("t=1700000000,"):], string(body), time.Minute, signedAt, true},
		{"tampered body", "whsec_test", header, `{"id":"evt_1","type":"order.refunded"}`, time.Minute, signedAt, false},
		{"wrong secret", "whsec_other", header, string(body), time.Minute, signedAt, false},
		{"old timestamp", "whsec_test", header, string(body), time.Minute, signedAt.Add(2 * time.Minute), false},
		{"old beyond default", "whsec_test", header, string(body), 0, signedAt.Add(6 * time.Minute), false},
		{"future timestamp", "whsec_test", header, string(body), time.Minute, signedAt.Add(-2 * time.Minute), false},
		{"timestamp swapped", "whsec_test", "t=1700000100" + header[len("t=1700000000"):], string(body), time.Hour, signedAt, false},
		{"no signature", "whsec_test", "t=1700000000", string(body), time.Minute, signedAt, false},
		{"no timestamp", "whsec_test", header[len("t=1700000000,"):], string(body), time.Minute, signedAt, false},
		{"empty header", "whsec_test", "", string(body), time.Minute, signedAt, false},
		{"garbage", "whsec_test", "t=abc,v1=zz", string(body), time.Minute, signedAt, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, []byte(tc.body), tc.tolerance, tc.now)
			if tc.ok && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("want rejection")
				}
				if models.ErrorKind(err) != models.KindUnauthorized {
					t.Errorf("kind %q", models.ErrorKind(err))
				}
			}
		})
	}
}

// The service's Verify is the merchant package's, so the cause stays reachable.
func TestVerifyKeepsCause(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	err := Verify("whsec_other", Sign("whsec_test", signedAt, body), body, time.Minute, signedAt)
	if !errors.Is(err, checkoutwebhook.ErrNoMatch) {
		t.Fatalf("got %v, want ErrNoMatch", err)
	}
	err = Verify("whsec_test", Sign("whsec_test", signedAt, body), body, time.Minute, signedAt.Add(time.Hour))
	if !errors.Is(err, checkoutwebhook.ErrTooOld) {
		t.Fatalf("got %v, want ErrTooOld", err)
	}
}
