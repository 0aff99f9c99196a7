package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/buybutton/checkout/models"
)

// codecPrefix is where Config.Codec (Temporal's remote codec protocol) is
// mounted. Two forms are accepted:
//
//	POST /codec/decode            Authorization: Bearer <codec token>
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
		setRetryAfter(w, wait)
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
	if r.Method == http.MethodOptions {
		a.cfg.Codec.ServeHTTP(w, r)
		return
	}
	a.serveAuditedCodec(w, r, op)
}

// maxCodecBody is the codec server's own request limit.
const maxCodecBody = 16 << 20

// serveAuditedCodec runs one codec call and leaves its trace: decode reveals
// personal data, so every call is a log line (who by token fingerprint,
// namespace, how many payloads, the answer) and counted in
// checkout_codec_requests_total / checkout_codec_payloads_total. The codec
// protocol names no workflow; Temporal UI sends the namespace only.
func (a *app) serveAuditedCodec(w http.ResponseWriter, r *http.Request, op string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCodecBody+1))
	if err != nil || len(body) > maxCodecBody {
		writePlainError(w, models.Invalid(codeBodyTooLarge, "codec requests must be at most %d bytes", maxCodecBody))
		return
	}
	var req struct {
		Payloads []json.RawMessage `json:"payloads"`
	}
	_ = json.Unmarshal(body, &req)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	a.cfg.Codec.ServeHTTP(rec, r)

	outcome := "ok"
	switch {
	case rec.status == http.StatusUnauthorized || rec.status == http.StatusForbidden:
		outcome = "refused"
	case rec.status >= 300:
		outcome = "error"
	}
	a.codecMetrics.requests.WithLabelValues(op, outcome).Inc()
	if outcome == "ok" {
		a.codecMetrics.payloads.WithLabelValues(op).Add(float64(len(req.Payloads)))
	}
	a.cfg.Logger.InfoContext(r.Context(), "codec "+op,
		slog.String("outcome", outcome), slog.Int("status", rec.status),
		slog.Int("payloads", len(req.Payloads)), slog.String("namespace", r.Header.Get("X-Namespace")),
		slog.String("token_fingerprint", tokenFingerprint(r.Header.Get("Authorization"))),
		slog.String("client_ip", clientIP(r)), slog.Time("at", time.Now().UTC()))
}

// tokenFingerprint names a bearer credential in logs without revealing it.
func tokenFingerprint(authorization string) string {
	_, token, ok := strings.Cut(authorization, " ")
	if !ok || strings.TrimSpace(token) == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:6])
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
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
