package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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

func newCodecEnv(t *testing.T) *env {
	t.Helper()
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	return newEnv(t, func(c *Config) {
		c.OperatorToken = operatorToken
		c.Codec = codec.NewServer(ring, codec.ServerOptions{OperatorToken: operatorToken, AllowedOrigins: []string{uiOrigin}})
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

	w := codecCall(e, "/codec/encode", bearerOf(operatorToken), plain)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	sealed := w.Body.String()
	require.NotContains(t, sealed, "Grace Hopper")
	var sp commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(sealed), &sp))
	require.NotContains(t, string(sp.Payloads[0].Data), "Grace Hopper", "the payload data itself is ciphertext")

	for _, tc := range []struct{ name, path, auth string }{
		{"header token", "/codec/decode", bearerOf(operatorToken)},
		{"path token, as Temporal UI calls it", "/codec/" + operatorToken + "/decode", ""},
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
	sealed := codecCall(e, "/codec/encode", bearerOf(operatorToken), payloadsJSON(t)).Body.String()
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

func TestCodecPathTokenMayNeedEscaping(t *testing.T) {
	spec, err := keyring.Generate()
	require.NoError(t, err)
	ring, err := keyring.Parse(spec)
	require.NoError(t, err)
	const tok = "op/with spaces+slash"
	e := newEnv(t, func(c *Config) {
		c.Codec = codec.NewServer(ring, codec.ServerOptions{OperatorToken: tok})
	})
	w := codecCall(e, "/codec/"+url.PathEscape(tok)+"/encode", "", payloadsJSON(t))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = codecCall(e, "/codec/op/decode", "", payloadsJSON(t))
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
}

func TestCodecRoutesAndCORS(t *testing.T) {
	e := newCodecEnv(t)
	for _, p := range []string{"/codec", "/codec/", "/codec/other", "/codec/a/b/decode", "/codec/" + operatorToken + "/encrypt"} {
		w := codecCall(e, p, bearerOf(operatorToken), "{}")
		requireError(t, w, http.StatusNotFound, codeRouteNotFound)
	}

	// Temporal UI's preflight to the path-token URL.
	w := e.do(req{method: http.MethodOptions, path: "/codec/" + operatorToken + "/decode",
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
