package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/models"
	"github.com/buybutton/checkout/workflows"
)

const uiOrigin = "http://localhost:8233"

// codecToken is the codec role's token; operatorToken the admin role's.
const codecToken = "codec-role-token-for-tests-0123456789"

func newCodecEnv(t *testing.T) *env {
	t.Helper()
	return newCodecEnvWith(t, func(*Config) {})
}

func newCodecEnvWith(t *testing.T, more func(*Config)) *env {
	t.Helper()
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	return newEnv(t, more, func(c *Config) {
		c.AdminToken = operatorToken
		c.Codec = codec.NewServer(ring, codec.ServerOptions{Token: codecToken, AllowedOrigins: []string{uiOrigin}})
	})
}

// payloadsJSON is a real workflow input in the codec protocol's JSON form.
func payloadsJSON(t *testing.T) string {
	t.Helper()
	in := workflows.PurchaseInput{OrderID: "ord_1", BuyerID: buyerA, ProductID: productID, Quantity: 1,
		Shipping: models.Address{Name: "Grace Hopper", Line1: "7 Navy Yard", City: "Arlington", PostalCode: "22202", Country: "US"}}
	ps, err := converter.GetDefaultDataConverter().ToPayloads(in)
	require.NoError(t, err)
	b, err := protojson.Marshal(ps)
	require.NoError(t, err)
	return string(b)
}

func codecCall(e *env, path, auth, body string) *httptest.ResponseRecorder {
	return e.do(req{method: http.MethodPost, path: path, auth: auth, body: body})
}

func TestCodecRoundTripThroughTheMountedEndpoint(t *testing.T) {
	e := newCodecEnv(t)
	plain := payloadsJSON(t)

	w := codecCall(e, "/codec/encode", bearerOf(codecToken), plain)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	sealed := w.Body.String()
	require.NotContains(t, sealed, "Grace Hopper")
	var sp commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(sealed), &sp))
	require.NotContains(t, string(sp.Payloads[0].Data), "Grace Hopper", "the payload data itself is ciphertext")

	for _, tc := range []struct{ name, path, auth string }{
		{"header token", "/codec/decode", bearerOf(codecToken)},
		{"path token, as Temporal UI calls it", "/codec/" + codecToken + "/decode", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := codecCall(e, tc.path, tc.auth, sealed)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var got commonpb.Payloads
			require.NoError(t, protojson.Unmarshal(w.Body.Bytes(), &got))
			var in workflows.PurchaseInput
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(&got, &in))
			require.Equal(t, "Grace Hopper", in.Shipping.Name)
			require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		})
	}
}

func TestCodecRefusesWithoutTheOperatorToken(t *testing.T) {
	e := newCodecEnv(t)
	sealed := codecCall(e, "/codec/encode", bearerOf(codecToken), payloadsJSON(t)).Body.String()
	cases := []struct{ name, path, auth string }{
		{"no token", "/codec/decode", ""},
		{"wrong header token", "/codec/decode", "Bearer wrong"},
		{"wrong path token", "/codec/wrong/decode", ""},
		{"buyer token", "/codec/decode", bearerOf(e.buyerToken(buyerA))},
		{"encode needs it too", "/codec/encode", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := codecCall(e, tc.path, tc.auth, sealed)
			require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			require.NotContains(t, w.Body.String(), "Grace")
		})
	}
}

// The two operator roles do not stand in for each other: the codec token
// opens no admin route and the admin token decodes nothing.
func TestOperatorRolesAreSeparate(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs lockedLog
	e := newCodecEnvWith(t, func(c *Config) {
		c.Registry = reg
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	sealed := codecCall(e, "/codec/encode", bearerOf(codecToken), payloadsJSON(t)).Body.String()

	for _, path := range []string{"/v1/admin/rollout"} {
		w := e.do(req{method: http.MethodGet, path: path, auth: bearerOf(codecToken)})
		requireError(t, w, http.StatusUnauthorized, "unauthorized")
	}
	w := e.do(req{method: http.MethodPost, path: "/v1/merchants", auth: bearerOf(codecToken), body: `{"name":"Evil"}`})
	requireError(t, w, http.StatusUnauthorized, "unauthorized")
	w = e.do(req{method: http.MethodPost, path: "/v1/admin/merchants/mer_1/keys/reset", auth: bearerOf(codecToken)})
	requireError(t, w, http.StatusUnauthorized, "unauthorized")
	for _, path := range []string{"/codec/decode", "/codec/" + operatorToken + "/decode"} {
		auth := ""
		if path == "/codec/decode" {
			auth = bearerOf(operatorToken)
		}
		w := codecCall(e, path, auth, sealed)
		require.Equal(t, http.StatusUnauthorized, w.Code, "admin token on %s: %s", path, w.Body.String())
	}
	require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: "/v1/admin/rollout", auth: bearerOf(operatorToken)}).Code)

	// Every decode leaves a log line and a count.
	require.Equal(t, http.StatusOK, codecCall(e, "/codec/"+codecToken+"/decode", "", sealed).Code)
	require.Equal(t, 1.0, counterValue(t, reg, "checkout_codec_requests_total", map[string]string{"op": "decode", "outcome": "ok"}))
	require.Equal(t, 2.0, counterValue(t, reg, "checkout_codec_requests_total", map[string]string{"op": "decode", "outcome": "refused"}))
	require.Equal(t, 1.0, counterValue(t, reg, "checkout_codec_payloads_total", map[string]string{"op": "decode"}))
	var decodes []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "codec decode" {
			decodes = append(decodes, m)
		}
	}
	require.Len(t, decodes, 3, logs.String())
	last := decodes[2]
	require.Equal(t, "ok", last["outcome"])
	require.Equal(t, 1.0, last["payloads"])
	require.Equal(t, tokenFingerprint("Bearer "+codecToken), last["token_fingerprint"])
	require.NotContains(t, logs.String(), codecToken, "the token itself is never logged")
	require.NotContains(t, logs.String(), "Grace")
}

type lockedLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestCodecPathTokenMayNeedEscaping(t *testing.T) {
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	const tok = "op/with spaces+slash"
	e := newEnv(t, func(c *Config) {
		c.Codec = codec.NewServer(ring, codec.ServerOptions{Token: tok})
	})
	w := codecCall(e, "/codec/"+url.PathEscape(tok)+"/encode", "", payloadsJSON(t))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = codecCall(e, "/codec/op/decode", "", payloadsJSON(t))
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
}

func TestCodecRoutesAndCORS(t *testing.T) {
	e := newCodecEnv(t)
	for _, p := range []string{"/codec", "/codec/", "/codec/other", "/codec/a/b/decode", "/codec/" + codecToken + "/encrypt"} {
		w := codecCall(e, p, bearerOf(codecToken), "{}")
		requireError(t, w, http.StatusNotFound, codeRouteNotFound)
	}

	// Temporal UI's preflight to the path-token URL.
	w := e.do(req{method: http.MethodOptions, path: "/codec/" + codecToken + "/decode",
		headers: map[string]string{"Origin": uiOrigin, "Access-Control-Request-Method": "POST"}})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	require.Equal(t, uiOrigin, w.Header().Get("Access-Control-Allow-Origin"))
	require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "X-Namespace")

	w = e.do(req{method: http.MethodOptions, path: "/codec/decode",
		headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	// Without a codec configured the path is an ordinary unknown route.
	plain := newEnv(t)
	w = codecCall(plain, "/codec/decode", bearerOf(operatorToken), strings.TrimSpace(payloadsJSON(t)))
	requireError(t, w, http.StatusNotFound, codeRouteNotFound)
}
