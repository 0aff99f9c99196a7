package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/buybutton/checkout/models"
)

// codecPrefix is where Config.Codec (Temporal's remote codec protocol) is
// mounted. Two forms are accepted:
//
//	POST /codec/decode            Authorization: Bearer <operator token>
//	POST /codec/<token>/decode    the token as a path segment
//
// The second exists because Temporal UI cannot add a fixed header to its
// codec calls: its codec endpoint setting can only be a URL. Whoever can read
// that URL (the UI's settings, a browser's history) can decode, so it is
// meant for a UI that only operators can open, or for an operator's own
// browser-side codec setting; see README, Security.
const codecPrefix = "/codec"

// withCodec serves the codec next to the API. It bypasses the gin chain on
// purpose: the codec protocol has its own JSON bodies (up to Temporal's
// payload sizes, well above MaxBodyBytes) and its own CORS.
func (a *app) withCodec(next http.Handler) http.Handler {
	if a.cfg.Codec == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != codecPrefix && !strings.HasPrefix(r.URL.Path, codecPrefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		a.serveCodec(w, r)
	})
}

func (a *app) serveCodec(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if ok, wait := a.limits.ip.allow(clientIP(r)); !ok {
		writeRateLimited(w, wait)
		writePlainError(w, models.Errorf(models.KindUnavailable, codeRateLimited, "too many requests; retry later"))
		return
	}
	// The escaped path, so a token containing "/" (sent as %2F) stays one segment.
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), codecPrefix), "/"), "/")
	op, token := parts[len(parts)-1], ""
	switch len(parts) {
	case 1:
	case 2:
		var err error
		if token, err = url.PathUnescape(parts[0]); err != nil {
			op = ""
		}
	default:
		op = ""
	}
	if op != "encode" && op != "decode" || len(token) > maxCredentialLen {
		writePlainError(w, models.Errorf(models.KindNotFound, codeRouteNotFound, "no such route"))
		return
	}
	if token != "" {
		// The codec server checks the token (in constant time) as if it had
		// come in the header; the path it sees no longer carries it.
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
	}
	r.URL.Path = codecPrefix + "/" + op
	r.URL.RawPath = ""
	a.cfg.Codec.ServeHTTP(w, r)
}

// clientIP is the connection's address, as gin's ClientIP is with no
// trusted proxies.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// writePlainError is writeError for handlers outside gin.
func writePlainError(w http.ResponseWriter, err error) {
	status, body := publicError(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]errorBody{"error": body})
}
