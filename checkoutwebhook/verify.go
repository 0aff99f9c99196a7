// Package checkoutwebhook is for merchants receiving the checkout's order
// webhooks: it checks the Checkout-Signature header and decodes the event.
// It depends on the standard library only, so a merchant can vendor it.
//
// Every webhook is a POST with a JSON body {"id","type","created","data"}
// and two headers: Checkout-Event-Id (the same on every retry and replay of
// one event: deduplicate on it) and Checkout-Signature
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the
// signing secret>".
package checkoutwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of every webhook request.
const (
	SignatureHeader = "Checkout-Signature"
	EventIDHeader   = "Checkout-Event-Id"
)

// DefaultTolerance is how far a signature's timestamp may be from now. It
// bounds the replay of a captured request while allowing for clock skew.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns; all mean "do not trust this request".
var (
	ErrMalformedHeader = errors.New("checkoutwebhook: malformed signature header")
	ErrTooOld          = errors.New("checkoutwebhook: signature timestamp outside tolerance")
	ErrNoMatch         = errors.New("checkoutwebhook: signature does not match")
)

// Event is a webhook body. Data is left raw: decode it into the type the
// event's Type implies (every order.* event carries the order).
type Event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	// Sequence orders one order's events as they happened (1, 2, …): apply
	// an event only if it is newer than the last one applied for that order.
	// Zero on events about refunds and disputes sent after the order closed.
	Sequence int             `json:"sequence,omitempty"`
	Data     json.RawMessage `json:"data"`
}

// Sign returns the Checkout-Signature value for body sent at t. The checkout
// signs every webhook with it; a merchant can use it to build signed requests
// in the tests of their own endpoint. The timestamp is inside the MAC, so an
// old body cannot be replayed under a fresh time.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header (the Checkout-Signature value) against the raw body
// at time now. tolerance <= 0 means DefaultTolerance. Any v1 entry matching
// is enough, so the sender can sign with an old and a new secret at once.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformedHeader
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return ErrTooOld
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrNoMatch
}

// Parse verifies a request's body (already read in full) and decodes it.
func Parse(secret string, h http.Header, body []byte, tolerance time.Duration) (Event, error) {
	if err := Verify(secret, h.Get(SignatureHeader), body, tolerance, time.Now()); err != nil {
		return Event{}, err
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}
