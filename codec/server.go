package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"

	"github.com/buybutton/checkout/keyring"
)

// maxRequestBytes bounds a request body: Temporal limits a payload to 2 MiB
// by default and the UI sends a few at a time.
const maxRequestBytes = 16 << 20

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Token is the codec role's bearer token (CODEC_TOKEN): it opens decode
	// and encode and nothing else; it must never be the admin token. Empty means no
	// static token is accepted (only AcceptToken, if set).
	Token string
	// AllowedOrigins are the exact browser origins (scheme://host[:port])
	// allowed to call the server, typically Temporal UI's, e.g.
	// "http://localhost:8233". Other origins get no CORS headers.
	AllowedOrigins []string
	// AcceptToken, if set, is asked about bearer tokens that are not
	// Token, e.g. to verify the OIDC access token Temporal UI passes
	// when "Pass the user access token" is on. It must check that the token
	// belongs to someone allowed to read PII, not just that it is valid.
	AcceptToken func(r *http.Request, token string) bool
}

// corsAllowHeaders are the headers Temporal UI sends: X-Namespace always,
// Authorization and Authorization-Extras (the OIDC id token) when it passes
// the user's token.
const corsAllowHeaders = "Authorization, Authorization-Extras, Content-Type, X-Namespace"

// NewServer serves Temporal's remote codec protocol (POST …/encode and
// POST …/decode with JSON {"payloads": […]}) for payloads sealed with r.
// Every request except CORS preflights needs a valid bearer token: decode
// reveals PII, and encode would let anyone forge payloads the workers trust.
func NewServer(r *keyring.Ring, opts ServerOptions) http.Handler {
	origins := make([]string, 0, len(opts.AllowedOrigins))
	for _, o := range opts.AllowedOrigins {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" {
			origins = append(origins, o)
		}
	}
	s := &server{
		codec:       converter.NewPayloadCodecHTTPHandler(NewPayloadCodec(r)),
		origins:     origins,
		acceptToken: opts.AcceptToken,
	}
	if opts.Token != "" {
		sum := sha256.Sum256([]byte(opts.Token))
		s.tokenHash = sum[:]
	}
	return s
}

type server struct {
	codec       http.Handler
	origins     []string
	tokenHash   []byte // nil: no static token
	acceptToken func(*http.Request, string) bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	corsOK := s.setCORS(w, r)
	if r.Method == http.MethodOptions {
		s.preflight(w, r, corsOK)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	s.codec.ServeHTTP(w, r)
}

// setCORS adds the CORS response headers when the request comes from an
// allowed origin, and reports whether it did.
func (s *server) setCORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(s.origins, origin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	// Temporal UI's "Include cross-origin credentials" makes fetch send
	// cookies, which browsers only allow with this header.
	h.Set("Access-Control-Allow-Credentials", "true")
	return true
}

func (s *server) preflight(w http.ResponseWriter, r *http.Request, corsOK bool) {
	if r.Header.Get("Origin") != "" && !corsOK {
		writeError(w, http.StatusForbidden, "forbidden", "origin not allowed")
		return
	}
	h := w.Header()
	h.Set("Allow", "POST, OPTIONS")
	if corsOK {
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	if s.tokenHash != nil {
		// Comparing hashes keeps the comparison constant-time in the length
		// of the token too.
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], s.tokenHash) == 1 {
			return true
		}
	}
	return s.acceptToken != nil && s.acceptToken(r, token)
}

// writeError uses the API's error shape, {"error":{"code","message"}}, so
// clients handle one format.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "message": msg}})
}
