// Package codec encrypts Temporal payloads with the service's keyring and
// serves Temporal's remote codec protocol so authorised operators can read
// encrypted workflow histories in Temporal UI or the temporal CLI.
//
// # What is encrypted
//
// Every payload the SDK writes (workflow and activity inputs and results,
// signals, updates, queries, memos) is replaced by an encrypted one: the whole
// original payload, metadata included, is proto-marshalled and sealed, so
// Temporal's database and UI see neither the data nor its encoding. With the
// failure converter from ClientOptions, error messages and stack traces are
// encrypted too (they often quote the values that failed). Search attributes
// are NOT encrypted: Temporal must index them, so they must never hold PII.
//
// Client and worker must be built with the same ring (ClientOptions), and a
// key must stay in the ring as long as any history sealed with it is retained.
//
// # Codec server for operators
//
// NewServer answers POST <prefix>/encode and POST <prefix>/decode. Mount it in
// the API, e.g. mux.Handle("/codec/", h), and give Temporal UI the endpoint
// with a trailing slash (Temporal UI resolves "decode" relative to it):
//
//	temporal server start-dev --ui-codec-endpoint http://localhost:8080/codec/
//
// or per browser in Temporal UI → Data Encoder settings → "Codec Server
// endpoint". Each request must carry "Authorization: Bearer <token>":
//
//   - temporal CLI: temporal workflow show -w purchase-<id> \
//     --codec-endpoint http://localhost:8080/codec --codec-auth "Bearer $CHECKOUT_CODEC_TOKEN"
//   - Temporal UI sends a bearer token only when "Pass the user access token"
//     is enabled, the endpoint is https, and the UI itself has OIDC login; the
//     token it sends is the user's access token from the identity provider.
//     Accept those through ServerOptions.AcceptToken (verify the JWT and the
//     operator's role there), or put an authenticating proxy in front that
//     sets the operator token. Without either, the UI gets 401 and shows the
//     payloads still encrypted, which is the safe failure.
//
// Browsers call the endpoint cross-origin from the UI, so the UI's origin
// (e.g. http://localhost:8233) must be listed in ServerOptions.AllowedOrigins.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/buybutton/checkout/keyring"
)

const (
	// Encoding marks payloads sealed by this codec.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that sealed a payload, in clear, so an
	// operator can tell which key a history needs without decrypting it.
	MetadataKeyID = "encryption-key-id"
)

// payloadAD binds sealed payloads to their purpose, so a ciphertext copied
// from a database column cannot be passed off as a payload, or vice versa.
var payloadAD = []byte("checkout/temporal-payload")

type payloadCodec struct{ ring *keyring.Ring }

// NewPayloadCodec returns a codec that encrypts every payload with r.
func NewPayloadCodec(r *keyring.Ring) converter.PayloadCodec {
	return payloadCodec{ring: r}
}

// Encode seals each payload. Payloads already sealed are left as they are,
// so encoding twice (e.g. a payload round-tripped through the codec server)
// does not need two decodes.
func (c payloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload: %w", err)
		}
		sealed, err := c.ring.Seal(plain, payloadAD)
		if err != nil {
			return payloads, fmt.Errorf("codec: seal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.ring.ActiveID()),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode opens sealed payloads and passes others through untouched, so
// histories written before encryption was turned on stay readable.
func (c payloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || !isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := c.ring.Open(p.GetData(), payloadAD)
		if err != nil {
			return payloads, fmt.Errorf("codec: open payload sealed with key %q: %w", p.GetMetadata()[MetadataKeyID], err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return payloads, fmt.Errorf("codec: unmarshal payload: %w", err)
		}
		out[i] = &orig
	}
	return out, nil
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding
}
