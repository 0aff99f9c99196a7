package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/buybutton/checkout/keyring"
)

type shipTo struct {
	Name    string
	Address string
}

var ada = shipTo{Name: "Ada Lovelace", Address: "12 Analytical Street, London"}

func testRing(t *testing.T, spec string) *keyring.Ring {
	t.Helper()
	r, err := keyring.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func keyB64(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, keyring.KeySize))
}

var specK1 = "active=k1;k1=" + keyB64(1)

func plainPayloads(t *testing.T, values ...any) []*commonpb.Payload {
	t.Helper()
	ps, err := converter.GetDefaultDataConverter().ToPayloads(values...)
	if err != nil {
		t.Fatal(err)
	}
	return ps.Payloads
}

// containsPII reports whether any PII of ada shows in b.
func containsPII(b []byte) bool {
	return bytes.Contains(b, []byte(ada.Name)) || bytes.Contains(b, []byte("Analytical"))
}

func TestPayloadCodecRoundTrip(t *testing.T) {
	c := NewPayloadCodec(testRing(t, specK1))
	orig := plainPayloads(t, ada, "order-1", 3)
	if !containsPII(orig[0].Data) {
		t.Fatalf("test setup: plaintext payload %q lacks the PII it should carry", orig[0].Data)
	}

	enc, err := c.Encode(orig)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(orig) {
		t.Fatalf("Encode returned %d payloads, want %d", len(enc), len(orig))
	}
	for i, p := range enc {
		wire, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if containsPII(wire) || bytes.Contains(wire, []byte("json/plain")) {
			t.Fatalf("encoded payload %d leaks plaintext or its encoding: %q", i, wire)
		}
		if got := string(p.Metadata[converter.MetadataEncoding]); got != Encoding {
			t.Fatalf("payload %d encoding = %q, want %q", i, got, Encoding)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Fatalf("payload %d key id = %q, want k1", i, got)
		}
	}

	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range orig {
		if !proto.Equal(dec[i], orig[i]) {
			t.Fatalf("payload %d: decoded %v, want %v", i, dec[i], orig[i])
		}
	}
	var got shipTo
	if err := converter.GetDefaultDataConverter().FromPayload(dec[0], &got); err != nil || got != ada {
		t.Fatalf("decoded value = %+v, %v", got, err)
	}
}

func TestPayloadCodecPassesThrough(t *testing.T) {
	c := NewPayloadCodec(testRing(t, specK1))
	plain := plainPayloads(t, ada)
	dec, err := c.Decode(plain)
	if err != nil || !proto.Equal(dec[0], plain[0]) {
		t.Fatalf("Decode of an unencrypted payload changed it: %v, %v", dec, err)
	}

	once, _ := c.Encode(plain)
	twice, err := c.Encode(once)
	if err != nil || !proto.Equal(twice[0], once[0]) {
		t.Fatalf("re-encoding an encrypted payload changed it: %v", err)
	}

	withNil, err := c.Encode([]*commonpb.Payload{nil})
	if err != nil || withNil[0] != nil {
		t.Fatalf("Encode(nil payload) = %v, %v", withNil, err)
	}
}

func TestPayloadCodecRotation(t *testing.T) {
	enc, err := NewPayloadCodec(testRing(t, specK1)).Encode(plainPayloads(t, ada))
	if err != nil {
		t.Fatal(err)
	}
	rotated := NewPayloadCodec(testRing(t, "active=k2;k1="+keyB64(1)+";k2="+keyB64(2)))
	if _, err := rotated.Decode(enc); err != nil {
		t.Fatalf("ring with k1 retired from active cannot decode: %v", err)
	}
	reenc, _ := rotated.Encode(plainPayloads(t, ada))
	if got := string(reenc[0].Metadata[MetadataKeyID]); got != "k2" {
		t.Fatalf("new payloads sealed with %q, want k2", got)
	}
}

func TestPayloadCodecDecodeErrors(t *testing.T) {
	enc, err := NewPayloadCodec(testRing(t, specK1)).Encode(plainPayloads(t, ada))
	if err != nil {
		t.Fatal(err)
	}
	tampered := proto.Clone(enc[0]).(*commonpb.Payload)
	tampered.Data[len(tampered.Data)-1] ^= 1

	// A value sealed by the same ring for a database column must not pass
	// as a payload.
	r := testRing(t, specK1)
	column, _ := r.Seal([]byte("x"), []byte("orders.address"))
	foreign := &commonpb.Payload{Metadata: enc[0].Metadata, Data: column}

	tests := []struct {
		name string
		ring string
		p    *commonpb.Payload
		want error
	}{
		{"unknown key", "active=k9;k9=" + keyB64(9), enc[0], keyring.ErrUnknownKey},
		{"tampered", specK1, tampered, keyring.ErrDecrypt},
		{"sealed for another purpose", specK1, foreign, keyring.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPayloadCodec(testRing(t, tt.ring)).Decode([]*commonpb.Payload{tt.p})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := NewDataConverter(testRing(t, specK1))
	p, err := dc.ToPayload(ada)
	if err != nil {
		t.Fatal(err)
	}
	if containsPII(p.Data) || string(p.Metadata[converter.MetadataEncoding]) != Encoding {
		t.Fatalf("ToPayload did not encrypt: %v", p)
	}
	var got shipTo
	if err := dc.FromPayload(p, &got); err != nil || got != ada {
		t.Fatalf("FromPayload = %+v, %v", got, err)
	}

	ps, err := dc.ToPayloads(ada, 42)
	if err != nil {
		t.Fatal(err)
	}
	var gotShip shipTo
	var gotN int
	if err := dc.FromPayloads(ps, &gotShip, &gotN); err != nil || gotShip != ada || gotN != 42 {
		t.Fatalf("FromPayloads = %+v, %d, %v", gotShip, gotN, err)
	}

	// A process without the keys must not be able to read it.
	var stolen shipTo
	if err := converter.GetDefaultDataConverter().FromPayload(p, &stolen); err == nil && stolen == ada {
		t.Fatal("default converter read an encrypted payload")
	}
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	dc, fc := ClientOptions(testRing(t, specK1))
	if dc == nil || fc == nil {
		t.Fatal("ClientOptions returned a nil converter")
	}
	appErr := temporal.NewNonRetryableApplicationError("cannot ship to "+ada.Address, "invalid", nil, "bad_address")

	f := fc.ErrorToFailure(appErr)
	wire, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if containsPII(wire) {
		t.Fatalf("failure carries the message in clear: %v", f)
	}
	if f.GetEncodedAttributes() == nil {
		t.Fatal("failure has no encoded attributes")
	}

	back := fc.FailureToError(f)
	var got *temporal.ApplicationError
	if !errors.As(back, &got) {
		t.Fatalf("FailureToError = %T %v, want *temporal.ApplicationError", back, back)
	}
	var code string
	if !strings.Contains(got.Error(), ada.Address) || got.Type() != "invalid" || got.Details(&code) != nil || code != "bad_address" {
		t.Fatalf("decoded failure = %q type %q code %q", got.Error(), got.Type(), code)
	}
}
