package notify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/buybutton/checkout/models"
)

// URLPolicy says which webhook URLs merchants may register and we deliver
// to. The zero value is production's: https only, public addresses only.
// Development allows both, for merchants listening on localhost.
type URLPolicy struct {
	AllowPrivate bool // loopback, private and other special-purpose addresses
	AllowHTTP    bool // plain http (the payload carries the buyer's name and address)
}

// Codes of refused webhook URLs.
const (
	CodeInvalidWebhookURL   = "invalid_webhook_url"
	CodeWebhookHTTPS        = "webhook_https_required"
	CodeAddressForbidden    = "webhook_address_forbidden"
	maxWebhookURLLen        = 2000
	reasonAddressForbidden  = "address_forbidden"
	reasonConnectFailed     = "connect_failed"
	reasonTimeout           = "timeout"
	reasonHTTPSRequired     = "https_required"
	reasonInvalidURL        = "invalid_url"
	reasonMissingSecret     = "secret_missing"
	reasonInvalidEvent      = "invalid_event"
	webhookSecretMissingErr = "webhook_secret_missing"
)

// CheckWebhookURL refuses a URL that is not absolute http(s) without
// credentials, plain http when the policy wants https, and a host that is
// an IP literal in a special-purpose range (or localhost) when private
// addresses are not allowed. Host names are checked again on every
// resolution when delivering (publicOnly).
func CheckWebhookURL(raw string, p URLPolicy) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(raw) > maxWebhookURLLen {
		return &models.Error{Kind: models.KindInvalid, Code: CodeInvalidWebhookURL,
			Message: "url must be an absolute http or https URL without credentials", Err: err}
	}
	if u.Scheme == "http" && !p.AllowHTTP {
		return models.Invalid(CodeWebhookHTTPS, "url must use https: events carry the buyer's name and address")
	}
	if p.AllowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return models.Invalid(CodeAddressForbidden, "url must point to a public internet address, not localhost")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why, bad := ForbiddenAddress(ip); bad {
			return models.Invalid(CodeAddressForbidden, "url must point to a public internet address; %s is %s", ip.WithZone(""), why)
		}
	}
	return nil
}

// FailureReason is what a merchant is told about a failed delivery:
// address_forbidden, https_required, connect_failed, timeout or
// http_<status>. Never the dial error itself, which would tell them what our
// resolver answered and how our network refused it.
func FailureReason(d Delivery, err error) string {
	var e *models.Error
	errors.As(err, &e)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errForbiddenAddress) || e != nil && e.Code == CodeAddressForbidden:
		return reasonAddressForbidden
	case e != nil && e.Code == CodeWebhookHTTPS:
		return reasonHTTPSRequired
	case e != nil && e.Code == CodeInvalidWebhookURL:
		return reasonInvalidURL
	case e != nil && e.Code == webhookSecretMissingErr:
		return reasonMissingSecret
	case e != nil && e.Code == reasonInvalidEvent:
		return reasonInvalidEvent
	case d.StatusCode != 0:
		return "http_" + strconv.Itoa(d.StatusCode)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return reasonTimeout
	}
	return reasonConnectFailed
}
