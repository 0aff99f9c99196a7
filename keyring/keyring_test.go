package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, KeySize)) }

func mustParse(t *testing.T, spec string) *Ring {
	t.Helper()
	r, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := mustParse(t, "active=k1;k1="+key(1))
	for _, plain := range [][]byte{nil, []byte("x"), []byte("Ada Lovelace, 12 Analytical St"), bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := r.Seal(plain, []byte("addresses.line1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) > 3 && bytes.Contains(sealed, plain) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := r.Open(sealed, []byte("addresses.line1"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
		if id, _ := KeyID(sealed); id != "k1" {
			t.Fatalf("KeyID = %q, want k1", id)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	r := mustParse(t, "active=k1;k1="+key(1))
	a, _ := r.Seal([]byte("same"), nil)
	b, _ := r.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	r := mustParse(t, "active=k1;k1="+key(1))
	sealed, err := r.Seal([]byte("4242 secret"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	// Every byte after the header is covered by the tag; header bytes either
	// break parsing or change the authenticated data.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := r.Open(bad, []byte("ad")); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	if _, err := r.Open(sealed[:len(sealed)-1], []byte("ad")); err == nil {
		t.Fatal("truncated value opened")
	}
}

func TestOpenErrors(t *testing.T) {
	r := mustParse(t, "active=k1;k1="+key(1))
	sealed, _ := r.Seal([]byte("secret"), []byte("orders.address"))
	other := mustParse(t, "active=k9;k9="+key(9))
	sameIDOtherKey := mustParse(t, "active=k1;k1="+key(2))

	tests := []struct {
		name   string
		ring   *Ring
		sealed []byte
		ad     string
		want   error
	}{
		{"wrong associated data", r, sealed, "profiles.address", ErrDecrypt},
		{"missing associated data", r, sealed, "", ErrDecrypt},
		{"unknown key id", other, sealed, "orders.address", ErrUnknownKey},
		{"same id different key", sameIDOtherKey, sealed, "orders.address", ErrDecrypt},
		{"empty", r, nil, "", ErrMalformed},
		{"bad version", r, append([]byte{0x02}, sealed[1:]...), "orders.address", ErrMalformed},
		{"header only", r, sealed[:4], "orders.address", ErrMalformed},
		{"id length past end", r, []byte{version1, 200, 'k'}, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.sealed, []byte(tt.ad))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open err = %v (plaintext %q), want %v", err, got, tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old := mustParse(t, "active=k1;k1="+key(1))
	sealed, err := old.Seal([]byte("12 Old Road"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := old.SealString("12 Old Road", "ad")
	if err != nil {
		t.Fatal(err)
	}
	if old.NeedsRotation(sealed) || old.NeedsRotationString(text) {
		t.Fatal("value sealed under the active key reported as needing rotation")
	}

	rotated := mustParse(t, "active=k2;k1="+key(1)+";k2="+key(2))
	got, err := rotated.Open(sealed, []byte("ad"))
	if err != nil || string(got) != "12 Old Road" {
		t.Fatalf("rotated ring Open = %q, %v", got, err)
	}
	if s, err := rotated.OpenString(text, "ad"); err != nil || s != "12 Old Road" {
		t.Fatalf("rotated ring OpenString = %q, %v", s, err)
	}
	if !rotated.NeedsRotation(sealed) || !rotated.NeedsRotationString(text) {
		t.Fatal("value sealed under k1 not reported as needing rotation after k2 became active")
	}

	resealed, err := rotated.Seal(got, []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyID(resealed); id != "k2" || rotated.NeedsRotation(resealed) {
		t.Fatalf("re-sealed value has key %q, needs rotation %v", id, rotated.NeedsRotation(resealed))
	}

	retired := mustParse(t, "active=k2;k2="+key(2))
	if _, err := retired.Open(sealed, []byte("ad")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open after k1 removal: err = %v, want ErrUnknownKey", err)
	}
	if rotated.NeedsRotation([]byte("garbage")) {
		t.Fatal("malformed value reported as needing rotation")
	}
}

func TestStringForm(t *testing.T) {
	r := mustParse(t, "active=key-2024.1;key-2024.1="+key(3))
	s, err := r.SealString("Ada Lovelace", "buyers.name")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "v1:key-2024.1:") {
		t.Fatalf("SealString = %q, want prefix v1:key-2024.1:", s)
	}
	if strings.ContainsAny(s[len("v1:key-2024.1:"):], "+/=:") {
		t.Fatalf("body of %q is not unpadded base64url", s)
	}
	got, err := r.OpenString(s, "buyers.name")
	if err != nil || got != "Ada Lovelace" {
		t.Fatalf("OpenString = %q, %v", got, err)
	}
	if _, err := r.OpenString(s, "buyers.email"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("OpenString with wrong AD: err = %v, want ErrDecrypt", err)
	}

	// Relabelling a value with another id in the ring must not open it.
	two := mustParse(t, "active=a;a="+key(3)+";b="+key(3))
	sa, _ := two.SealString("x", "")
	if _, err := two.OpenString("v1:b:"+strings.SplitN(sa, ":", 3)[2], ""); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("relabelled key id opened: err = %v", err)
	}

	for _, bad := range []string{"", "plain text", "v2:k1:AAAA", "v1:k1", "v1::AAAA", "v1:k1:***", "v1:k1:AA"} {
		if _, err := r.OpenString(bad, ""); err == nil {
			t.Errorf("OpenString(%q) succeeded", bad)
		}
	}
}

func TestParse(t *testing.T) {
	k1, k2 := key(1), key(2)
	raw := bytes.Repeat([]byte{0xfb}, KeySize) // encodes with '+', '/' or '-', '_'
	tests := []struct {
		name    string
		spec    string
		active  string
		wantErr string
	}{
		{"one key", "active=k1;k1=" + k1, "k1", ""},
		{"two keys, spaces, trailing separator", " active = k2 ; k1=" + k1 + " ; k2=" + k2 + ";", "k2", ""},
		{"active last", "k1=" + k1 + ";active=k1", "k1", ""},
		{"url-safe unpadded key", "active=k1;k1=" + base64.RawURLEncoding.EncodeToString(raw), "k1", ""},
		{"std padded key with +/", "active=k1;k1=" + base64.StdEncoding.EncodeToString(raw), "k1", ""},
		{"empty", "", "", "empty"},
		{"blank", "  ; ", "", "no keys"},
		{"no active", "k1=" + k1, "", "no \"active"},
		{"empty active", "active=;k1=" + k1, "", "not \"<id>="},
		{"unknown active", "active=k3;k1=" + k1, "", "not among the keys"},
		{"active twice", "active=k1;active=k1;k1=" + k1, "", "twice"},
		{"duplicate id", "active=k1;k1=" + k1 + ";k1=" + k2, "", "twice"},
		{"short key", "active=k1;k1=" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "", "16 bytes"},
		{"long key", "active=k1;k1=" + base64.StdEncoding.EncodeToString(make([]byte, 33)), "", "33 bytes"},
		{"not base64", "active=k1;k1=not*base64", "", "base64"},
		{"missing key", "active=k1;k1=", "", "not \"<id>="},
		{"bare key", "active=k1;" + k1, "", "not \"<id>="},
		{"bare key without padding", "active=k1;" + base64.RawURLEncoding.EncodeToString(raw), "", "not \"<id>="},
		{"id with slash", "active=k1;k1=" + k1 + ";a/b=" + k2, "", "may only use"},
		{"id with colon", "active=a:b;a:b=" + k1, "", "may only use"},
		{"id too long", "active=k1;k1=" + k1 + ";" + strings.Repeat("x", 65) + "=" + k2, "", "characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse err = %v, want one containing %q", err, tt.wantErr)
				}
				rawStd, rawURL := base64.RawStdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)
				if strings.Contains(err.Error(), k1[:40]) || strings.Contains(err.Error(), k2[:40]) ||
					strings.Contains(err.Error(), rawStd[:40]) || strings.Contains(err.Error(), rawURL[:40]) {
					t.Fatalf("error leaks key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r.ActiveID() != tt.active {
				t.Fatalf("ActiveID = %q, want %q", r.ActiveID(), tt.active)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if a == b {
		t.Fatal("Generate returned the same key twice")
	}
	r := mustParse(t, a)
	sealed, err := r.Seal([]byte("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Open(sealed, nil); err != nil || string(got) != "hi" {
		t.Fatalf("round trip with generated ring: %q, %v", got, err)
	}
}

func TestRingDoesNotPrintKeys(t *testing.T) {
	k := key(7)
	r := mustParse(t, "active=k1;k1="+k)
	for _, s := range []string{r.String(), r.GoString()} {
		if strings.Contains(s, k) || !strings.Contains(s, "k1") {
			t.Fatalf("ring prints as %q", s)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	r := mustParse(t, "active=k1;k1="+key(1))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				plain := []byte{byte(i)}
				s, err := r.Seal(plain, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := r.Open(s, nil); err != nil || !bytes.Equal(got, plain) {
					t.Errorf("concurrent round trip: %v, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
