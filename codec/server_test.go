package codec

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	operatorToken = "op-secret-token"
	uiOrigin      = "http://localhost:8233"
)

func newTestServer(t *testing.T, opts ServerOptions) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/codec/", NewServer(testRing(t, specK1), opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func defaultOpts() ServerOptions {
	return ServerOptions{Token: operatorToken, AllowedOrigins: []string{uiOrigin + "/"}}
}

// encryptedBody is a decode request as Temporal UI sends it.
func encryptedBody(t *testing.T) []byte {
	t.Helper()
	enc, err := NewPayloadCodec(testRing(t, specK1)).Encode(plainPayloads(t, ada))
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(t *testing.T, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestServerDecodeAuth(t *testing.T) {
	srv := newTestServer(t, defaultOpts())
	body := encryptedBody(t)
	if containsPII(body) {
		t.Fatal("test setup: request body is not encrypted")
	}

	tests := []struct {
		name       string
		auth       string
		wantStatus int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer not-the-token", http.StatusUnauthorized},
		{"token prefix", "Bearer " + operatorToken[:5], http.StatusUnauthorized},
		{"not a bearer", "Basic " + operatorToken, http.StatusUnauthorized},
		{"bare token", operatorToken, http.StatusUnauthorized},
		{"right token", "Bearer " + operatorToken, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + operatorToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}, "X-Namespace": {"default"}}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			resp, got := post(t, srv.URL+"/codec/decode", body, h)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantStatus != http.StatusOK {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(got, &e); err != nil || e.Error.Code != "unauthorized" {
					t.Fatalf("401 body = %s (%v), want a JSON error with code unauthorized", got, err)
				}
				if containsPII(got) {
					t.Fatal("401 response carries decrypted data")
				}
				return
			}
			var ps commonpb.Payloads
			if err := protojson.Unmarshal(got, &ps); err != nil {
				t.Fatalf("decode response %s: %v", got, err)
			}
			var ship shipTo
			if err := converter.GetDefaultDataConverter().FromPayload(ps.Payloads[0], &ship); err != nil || ship != ada {
				t.Fatalf("decoded %+v, %v; want %+v", ship, err, ada)
			}
		})
	}
}

func TestServerEncodeNeedsToken(t *testing.T) {
	srv := newTestServer(t, defaultOpts())
	plain, err := protojson.Marshal(&commonpb.Payloads{Payloads: plainPayloads(t, ada)})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := post(t, srv.URL+"/codec/encode", plain, http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("encode without token: status %d, want 401", resp.StatusCode)
	}

	resp, got := post(t, srv.URL+"/codec/encode", plain, http.Header{
		"Content-Type": {"application/json"}, "Authorization": {"Bearer " + operatorToken},
	})
	if resp.StatusCode != http.StatusOK || containsPII(got) {
		t.Fatalf("encode with token: status %d, body %s", resp.StatusCode, got)
	}
	var ps commonpb.Payloads
	if err := protojson.Unmarshal(got, &ps); err != nil {
		t.Fatal(err)
	}
	dec, err := NewPayloadCodec(testRing(t, specK1)).Decode(ps.Payloads)
	if err != nil || !proto.Equal(dec[0], plainPayloads(t, ada)[0]) {
		t.Fatalf("server-encoded payload does not decode locally: %v", err)
	}
}

// The temporal CLI and the SDK talk to codec servers through the SDK's
// remote codec; it must interoperate with this server.
func TestServerWithSDKRemoteCodec(t *testing.T) {
	srv := newTestServer(t, defaultOpts())
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+operatorToken)
			return nil
		},
	})
	orig := plainPayloads(t, ada, 7)
	enc, err := remote.Encode(orig)
	if err != nil {
		t.Fatal(err)
	}
	if string(enc[0].Metadata[converter.MetadataEncoding]) != Encoding {
		t.Fatalf("remote encode did not encrypt: %v", enc[0])
	}
	dec, err := remote.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range orig {
		if !proto.Equal(dec[i], orig[i]) {
			t.Fatalf("payload %d: %v, want %v", i, dec[i], orig[i])
		}
	}
}

func TestServerCORS(t *testing.T) {
	srv := newTestServer(t, defaultOpts())

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("allowed origin preflight", func(t *testing.T) {
		resp := preflight(uiOrigin)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d, want 204", resp.StatusCode)
		}
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != uiOrigin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("CORS origin headers: %v", h)
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("Allow-Methods = %q", h.Get("Access-Control-Allow-Methods"))
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"authorization", "content-type", "x-namespace"} {
			if !strings.Contains(allowed, want) {
				t.Fatalf("Allow-Headers = %q lacks %s", allowed, want)
			}
		}
	})

	t.Run("other origin preflight", func(t *testing.T) {
		resp := preflight("http://evil.example")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("status %d, ACAO %q; want 403 without CORS headers", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("actual request carries CORS headers, also on 401", func(t *testing.T) {
		for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer " + operatorToken: http.StatusOK} {
			h := http.Header{"Content-Type": {"application/json"}, "Origin": {uiOrigin}}
			if auth != "" {
				h.Set("Authorization", auth)
			}
			resp, _ := post(t, srv.URL+"/codec/decode", encryptedBody(t), h)
			if resp.StatusCode != want || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin {
				t.Fatalf("auth %q: status %d, ACAO %q", auth, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})

	t.Run("other origin gets no CORS headers", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/json"}, "Origin": {"http://evil.example"}, "Authorization": {"Bearer " + operatorToken}}
		resp, _ := post(t, srv.URL+"/codec/decode", encryptedBody(t), h)
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("ACAO = %q for a foreign origin", resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func TestServerRequests(t *testing.T) {
	srv := newTestServer(t, defaultOpts())
	auth := "Bearer " + operatorToken
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"GET", http.MethodGet, "/codec/decode", "", http.StatusMethodNotAllowed},
		{"unknown endpoint", http.MethodPost, "/codec/other", `{"payloads":[]}`, http.StatusNotFound},
		{"not JSON", http.MethodPost, "/codec/decode", "{", http.StatusBadRequest},
		{"undecryptable payload", http.MethodPost, "/codec/decode",
			`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AQJrMQ=="}]}`, http.StatusBadRequest},
		{"empty list", http.MethodPost, "/codec/decode", `{"payloads":[]}`, http.StatusOK},
		{"too large", http.MethodPost, "/codec/decode", `{"payloads":[{"data":"` + strings.Repeat("A", maxRequestBytes) + `"}]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestServerTokenOptions(t *testing.T) {
	body := encryptedBody(t)
	tests := []struct {
		name string
		opts ServerOptions
		auth string
		want int
	}{
		{"no operator token configured rejects empty bearer", ServerOptions{}, "Bearer ", http.StatusUnauthorized},
		{"no operator token configured rejects anything", ServerOptions{}, "Bearer x", http.StatusUnauthorized},
		{"AcceptToken admits", ServerOptions{AcceptToken: func(_ *http.Request, tok string) bool { return tok == "oidc-jwt" }}, "Bearer oidc-jwt", http.StatusOK},
		{"AcceptToken refuses", ServerOptions{Token: operatorToken, AcceptToken: func(*http.Request, string) bool { return false }}, "Bearer oidc-jwt", http.StatusUnauthorized},
		{"operator token still works with AcceptToken", ServerOptions{Token: operatorToken, AcceptToken: func(*http.Request, string) bool { return false }}, "Bearer " + operatorToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.opts)
			resp, got := post(t, srv.URL+"/codec/decode", body, http.Header{"Content-Type": {"application/json"}, "Authorization": {tt.auth}})
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, got)
			}
		})
	}
}
