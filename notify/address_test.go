package notify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/buybutton/checkout/models"
)

// registryCases holds one address inside every range of IANA's IPv4 and
// IPv6 special-purpose registries (and multicast), written from the
// registries rather than from the table in address.go, with a word of the
// registry's name for it.
var registryCases = []struct{ addr, name string }{
	{"0.0.0.0", "This host"},
	{"0.1.2.3", "This network"},
	{"10.20.30.40", "Private-Use"},
	{"100.64.0.1", "Shared Address Space"},
	{"100.127.255.254", "Shared Address Space"},
	{"127.0.0.1", "Loopback"},
	{"127.255.255.255", "Loopback"},
	{"169.254.169.254", "Link Local"},
	{"172.16.0.1", "Private-Use"},
	{"172.31.255.255", "Private-Use"},
	{"192.0.0.1", "Service Continuity"},
	{"192.0.0.8", "dummy"},
	{"192.0.0.9", "Port Control"},
	{"192.0.0.10", "Traversal Using Relays"},
	{"192.0.0.170", "NAT64/DNS64"},
	{"192.0.0.171", "NAT64/DNS64"},
	{"192.0.0.200", "IETF Protocol Assignments"},
	{"192.0.2.1", "TEST-NET-1"},
	{"192.31.196.1", "AS112-v4"},
	{"192.52.193.1", "AMT"},
	{"192.88.99.1", "6to4 Relay"},
	{"192.168.1.1", "Private-Use"},
	{"192.175.48.1", "AS112"},
	{"198.18.0.1", "Benchmarking"},
	{"198.19.255.255", "Benchmarking"},
	{"198.51.100.7", "TEST-NET-2"},
	{"203.0.113.9", "TEST-NET-3"},
	{"224.0.0.251", "Multicast"},
	{"239.255.255.250", "Multicast"},
	{"240.0.0.1", "Reserved"},
	{"255.255.255.255", "Limited Broadcast"},
	{"::1", "Loopback"},
	{"::", "Unspecified"},
	{"::ffff:127.0.0.1", "Loopback"},
	{"::ffff:10.0.0.1", "Private-Use"},
	{"64:ff9b:1::1", "Translat."},
	{"100::1", "Discard-Only"},
	{"100:0:0:1::1", "Dummy IPv6"},
	{"2001::1", "TEREDO"},
	{"2001:1::1", "Port Control"},
	{"2001:1::2", "Traversal Using Relays"},
	{"2001:1::3", "DNS-SD"},
	{"2001:2::1", "Benchmarking"},
	{"2001:3::1", "AMT"},
	{"2001:4:112::1", "AS112-v6"},
	{"2001:10::1", "ORCHID"},
	{"2001:20::1", "ORCHIDv2"},
	{"2001:30::1", "Drone"},
	{"2001:100::1", "IETF Protocol Assignments"},
	{"2001:db8::1", "Documentation"},
	{"2002:0808:0808::1", "6to4"},
	{"2620:4f:8000::1", "AS112"},
	{"3fff::1", "Documentation"},
	{"5f00::1", "SRv6"},
	{"fc00::1", "Unique-Local"},
	{"fd12:3456::1", "Unique-Local"},
	{"fe80::1", "Link-Local"},
	{"fe80::1%eth0", "Link-Local"},
	{"fec0::1", "Site-Local"},
	{"ff02::1", "Multicast"},
	{"::10.0.0.2", "outside global unicast"},
	{"4000::1", "outside global unicast"},
}

func TestForbiddenAddressCoversTheRegistries(t *testing.T) {
	for _, c := range registryCases {
		why, bad := ForbiddenAddress(netip.MustParseAddr(c.addr))
		if !bad || !strings.Contains(why, c.name) {
			t.Errorf("%s: forbidden=%v (%q), want refused as %q", c.addr, bad, why, c.name)
		}
	}
	// Every range of the table is exercised above, so a range added to the
	// table without a case here fails.
	for _, table := range [][]specialRange{specialIPv4, specialIPv6} {
		for _, r := range table {
			hit := false
			for _, c := range registryCases {
				if r.prefix.Contains(netip.MustParseAddr(c.addr).WithZone("").Unmap()) {
					hit = true
				}
			}
			if !hit {
				t.Errorf("no test address in %s (%s)", r.prefix, r.name)
			}
		}
	}
}

func TestEmbeddedIPv4IsUnwrapped(t *testing.T) {
	cases := []struct {
		addr    string
		allowed bool
		reason  string
	}{
		{"64:ff9b::8.8.8.8", true, ""},
		{"64:ff9b::10.0.0.1", false, "10.0.0.1, Private-Use"},
		{"64:ff9b::127.0.0.1", false, "Loopback"},
		{"64:ff9b::198.18.0.1", false, "Benchmarking"},
		{"64:ff9b::169.254.169.254", false, "Link Local"},
		{"2002:0a00:0001::1", false, "6to4 (RFC 3056) carrying 10.0.0.1"},
		{"2002:0808:0808::1", false, "carrying 8.8.8.8"},
		// Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted.
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false, "carrying 127.0.0.1"},
		{"8.8.8.8", true, ""},
		{"93.184.216.34", true, ""},
		{"100.63.255.255", true, ""},
		{"198.20.0.1", true, ""},
		{"2606:4700:4700::1111", true, ""},
		{"::ffff:8.8.8.8", true, ""},
	}
	for _, c := range cases {
		why, bad := ForbiddenAddress(netip.MustParseAddr(c.addr))
		if bad == c.allowed || !strings.Contains(why, c.reason) {
			t.Errorf("%s: forbidden=%v (%q), want allowed=%v reason %q", c.addr, bad, why, c.allowed, c.reason)
		}
	}
}

func TestCheckWebhookURL(t *testing.T) {
	prod, dev := URLPolicy{}, URLPolicy{AllowPrivate: true, AllowHTTP: true}
	cases := []struct {
		url       string
		prod, dev string // wanted code, "" for accepted
	}{
		{"https://shop.example/hooks", "", ""},
		{"https://8.8.8.8/h", "", ""},
		{"http://shop.example/hooks", CodeWebhookHTTPS, ""},
		{"https://127.0.0.1:8443/h", CodeAddressForbidden, ""},
		{"https://[::1]/h", CodeAddressForbidden, ""},
		{"https://[64:ff9b::a00:1]/h", CodeAddressForbidden, ""},
		{"https://198.18.0.1/h", CodeAddressForbidden, ""},
		{"https://[fe80::1%25eth0]/h", CodeAddressForbidden, ""},
		{"https://localhost:9000/h", CodeAddressForbidden, ""},
		{"https://hooks.localhost./h", CodeAddressForbidden, ""},
		{"ftp://shop.example/h", CodeInvalidWebhookURL, CodeInvalidWebhookURL},
		{"https://u:p@shop.example/h", CodeInvalidWebhookURL, CodeInvalidWebhookURL},
		{"/relative", CodeInvalidWebhookURL, CodeInvalidWebhookURL},
	}
	for _, c := range cases {
		for _, p := range []struct {
			policy URLPolicy
			want   string
		}{{prod, c.prod}, {dev, c.dev}} {
			err := CheckWebhookURL(c.url, p.policy)
			var e *models.Error
			got := ""
			if errors.As(err, &e) {
				got = e.Code
			}
			if got != p.want {
				t.Errorf("%s with %+v: %q, want %q", c.url, p.policy, got, p.want)
			}
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// What a merchant reads in the delivery log names no address, resolver
// answer or dial error.
func TestFailureReasonIsGeneric(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused 10.1.2.3:443")}
	cases := []struct {
		d    Delivery
		err  error
		want string
	}{
		{Delivery{}, nil, ""},
		{Delivery{}, &models.Error{Kind: models.KindInvalid, Code: CodeAddressForbidden, Err: errForbiddenAddress}, "address_forbidden"},
		{Delivery{}, &models.Error{Kind: models.KindUnavailable, Code: "webhook_failed", Err: dialErr}, "connect_failed"},
		{Delivery{}, &models.Error{Kind: models.KindUnavailable, Code: "webhook_failed", Err: timeoutErr{}}, "timeout"},
		{Delivery{}, &models.Error{Kind: models.KindUnavailable, Code: "webhook_failed", Err: context.DeadlineExceeded}, "timeout"},
		{Delivery{StatusCode: 503}, classifyStatus(503), "http_503"},
		{Delivery{StatusCode: 404}, classifyStatus(404), "http_404"},
		{Delivery{}, CheckWebhookURL("http://x.example", URLPolicy{}), "https_required"},
	}
	for _, c := range cases {
		if got := FailureReason(c.d, c.err); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}
