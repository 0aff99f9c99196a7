package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/buybutton/checkout/models"
)

// DefaultTolerance is how old (or how far in the future) a signed timestamp
// may be when Verify is given no tolerance. It bounds replays of a captured
// request while allowing for clock skew and slow delivery.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Checkout-Signature header value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>". The timestamp is
// inside the MAC so an attacker cannot replay an old body with a new time.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Checkout-Signature header against the raw request body, as
// a merchant's endpoint should before parsing it. Several v1 entries are
// allowed so a secret can be rotated without a gap. tolerance <= 0 means
// DefaultTolerance.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
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
		return badSignature("malformed signature header")
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return badSignature("signature timestamp outside tolerance")
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return badSignature("signature does not match")
}

func badSignature(msg string) error {
	return models.Errorf(models.KindUnauthorized, "invalid_signature", "%s", msg)
}
