package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/buybutton/checkout/api"
	"github.com/buybutton/checkout/codec"
	"github.com/buybutton/checkout/config"
	"github.com/buybutton/checkout/keyring"
	"github.com/buybutton/checkout/rollout"
)

// Files keeping the generated development tokens, so what `checkout dev`
// prints (and gives Temporal UI) survives restarts.
const (
	devAdminTokenFile = "dev-admin-token"
	devCodecTokenFile = "dev-codec-token"
)

// apiTrust is the API's access policy: who may buy, how fast anyone may
// call, and the codec server for operators.
type apiTrust struct {
	rollout *rollout.Gate
	limits  api.RateLimits
	codec   http.Handler
}

func buildTrust(cfg config.Config, ring *keyring.Ring) (apiTrust, error) {
	settings, err := rollout.FromEnv(cfg.RolloutPercent, cfg.RolloutAllow, cfg.RolloutDeny, cfg.RolloutOffFor)
	if err != nil {
		return apiTrust{}, err
	}
	gate, err := rollout.NewGate(settings)
	if err != nil {
		return apiTrust{}, err
	}
	var t apiTrust
	t.rollout = gate
	for _, l := range []struct {
		env, raw string
		def      api.RateLimit
		dst      *api.RateLimit
	}{
		{"RATE_LIMIT_IP", cfg.RateLimitIP, api.DefaultIPRateLimit, &t.limits.IP},
		{"RATE_LIMIT_BUYER", cfg.RateLimitBuyer, api.DefaultBuyerRateLimit, &t.limits.Buyer},
		{"RATE_LIMIT_MERCHANT", cfg.RateLimitMerchant, api.DefaultMerchantRateLimit, &t.limits.Merchant},
		{"RATE_LIMIT_STRIPE_WEBHOOK_IP", cfg.RateLimitStripe, api.DefaultStripeWebhookIPRateLimit, &t.limits.StripeWebhookIP},
	} {
		if *l.dst, err = api.ParseRateLimit(l.raw, l.def); err != nil {
			return apiTrust{}, fmt.Errorf("%s: %w", l.env, err)
		}
	}
	// Mounted even without CODEC_TOKEN: it then refuses every call, which
	// tells an operator more than a 404 would.
	t.codec = codec.NewServer(ring, codec.ServerOptions{
		Token:          cfg.CodecToken,
		AllowedOrigins: strings.Split(cfg.TemporalUIOrigin, ","),
	})
	slog.Info("rollout", "percent", settings.Percent, "allow", len(settings.Allow), "deny", len(settings.Deny),
		"disabled_merchants", len(settings.DisabledMerchants))
	return t, nil
}

// devToken returns current (ADMIN_TOKEN or CODEC_TOKEN), or one generated
// once and kept in file: development must have working operator endpoints
// without setup. prefix tells a reader which role a leaked token has.
func devToken(current, file, prefix string) (string, error) {
	if current != "" {
		return current, nil
	}
	if b, err := os.ReadFile(file); err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := prefix + hex.EncodeToString(buf)
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	slog.Warn("generated a development token", "role", strings.TrimSuffix(prefix, "_"), "file", file)
	return tok, nil
}

// withID adds id to a comma-separated list unless it is already there.
func withID(list, id string) string {
	for _, v := range strings.Split(list, ",") {
		if strings.TrimSpace(v) == id {
			return list
		}
	}
	if strings.TrimSpace(list) == "" {
		return id
	}
	return list + "," + id
}

// codecEndpoint is the URL Temporal UI is given: the token travels as a path
// segment because the UI cannot add a header (see api/codec.go).
func codecEndpoint(httpAddr, token string) string {
	return "http://" + localAddr(httpAddr) + "/codec/" + url.PathEscape(token)
}

// printTrustBanner completes the dev banner with what operators need.
func printTrustBanner(cfg config.Config, uiCodec string, ownUI bool) {
	base := "http://" + localAddr(cfg.HTTPAddr)
	uiNote := "Temporal UI decodes payloads through it (started with --ui-codec-endpoint);\n" +
		"                  its token is the dev codec token: decode/encode only, no admin rights."
	if !ownUI {
		uiNote = "Temporal was already running: set this as the Codec Server endpoint in its UI to read payloads."
	}
	fmt.Printf(`
Operators:

  Admin token     %s  (data/%s)
  Codec endpoint  %s
                  %s
  Rollout         curl -sS %s/v1/admin/rollout -H "Authorization: Bearer %s"
                  (buyer %s is on the allowlist; PUT the same JSON back to change it)
`, cfg.AdminToken, devAdminTokenFile, uiCodec, uiNote, base, cfg.AdminToken, demoBuyerID)
}
