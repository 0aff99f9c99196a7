package notify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errForbiddenAddress is what the dialer says when a webhook URL resolves to
// an address merchants must not reach through us.
var errForbiddenAddress = errors.New("webhook address is not a public internet address")

type specialRange struct {
	prefix netip.Prefix
	name   string
}

func ranges(rows ...[2]string) []specialRange {
	out := make([]specialRange, len(rows))
	for i, r := range rows {
		out[i] = specialRange{prefix: netip.MustParsePrefix(r[0]), name: r[1]}
	}
	return out
}

// specialIPv4 is IANA's IPv4 Special-Purpose Address Registry
// (iana-ipv4-special-registry, names as the registry gives them), plus the
// multicast block from the IPv4 Multicast Address Space Registry. Every
// entry is refused, the globally reachable ones too (AS112, AMT, the
// deprecated 6to4 relay anycast): no merchant's webhook lives there. More
// specific entries come first so the reason names them.
var specialIPv4 = ranges(
	[2]string{"0.0.0.0/32", "\"This host on this network\" (RFC 1122)"},
	[2]string{"0.0.0.0/8", "\"This network\" (RFC 791)"},
	[2]string{"10.0.0.0/8", "Private-Use (RFC 1918)"},
	[2]string{"100.64.0.0/10", "Shared Address Space (RFC 6598)"},
	[2]string{"127.0.0.0/8", "Loopback (RFC 1122)"},
	[2]string{"169.254.0.0/16", "Link Local (RFC 3927)"},
	[2]string{"172.16.0.0/12", "Private-Use (RFC 1918)"},
	[2]string{"192.0.0.0/29", "IPv4 Service Continuity Prefix (RFC 7335)"},
	[2]string{"192.0.0.8/32", "IPv4 dummy address (RFC 7600)"},
	[2]string{"192.0.0.9/32", "Port Control Protocol Anycast (RFC 7723)"},
	[2]string{"192.0.0.10/32", "Traversal Using Relays around NAT Anycast (RFC 8155)"},
	[2]string{"192.0.0.170/31", "NAT64/DNS64 Discovery (RFC 7050)"},
	[2]string{"192.0.0.0/24", "IETF Protocol Assignments (RFC 6890)"},
	[2]string{"192.0.2.0/24", "Documentation (TEST-NET-1) (RFC 5737)"},
	[2]string{"192.31.196.0/24", "AS112-v4 (RFC 7535)"},
	[2]string{"192.52.193.0/24", "AMT (RFC 7450)"},
	[2]string{"192.88.99.0/24", "Deprecated (6to4 Relay Anycast) (RFC 7526)"},
	[2]string{"192.168.0.0/16", "Private-Use (RFC 1918)"},
	[2]string{"192.175.48.0/24", "Direct Delegation AS112 Service (RFC 7534)"},
	[2]string{"198.18.0.0/15", "Benchmarking (RFC 2544)"},
	[2]string{"198.51.100.0/24", "Documentation (TEST-NET-2) (RFC 5737)"},
	[2]string{"203.0.113.0/24", "Documentation (TEST-NET-3) (RFC 5737)"},
	[2]string{"224.0.0.0/4", "Multicast (RFC 5771)"},
	[2]string{"255.255.255.255/32", "Limited Broadcast (RFC 8190)"},
	[2]string{"240.0.0.0/4", "Reserved (RFC 1112)"},
)

// specialIPv6 is IANA's IPv6 Special-Purpose Address Registry
// (iana-ipv6-special-registry), plus multicast and link-local from the IPv6
// Address Space registry. The IPv4-mapped and NAT64 well-known prefixes are
// not listed: their embedded IPv4 address is checked instead (see
// forbiddenReason). Anything outside 2000::/3, the global unicast space, is
// refused after this table.
var specialIPv6 = ranges(
	[2]string{"::1/128", "Loopback Address (RFC 4291)"},
	[2]string{"::/128", "Unspecified Address (RFC 4291)"},
	[2]string{"64:ff9b:1::/48", "IPv4-IPv6 Translat. (RFC 8215)"},
	[2]string{"100::/64", "Discard-Only Address Block (RFC 6666)"},
	[2]string{"100:0:0:1::/64", "Dummy IPv6 Prefix (RFC 9780)"},
	[2]string{"2001::/32", "TEREDO (RFC 4380)"},
	[2]string{"2001:1::1/128", "Port Control Protocol Anycast (RFC 7723)"},
	[2]string{"2001:1::2/128", "Traversal Using Relays around NAT Anycast (RFC 8155)"},
	[2]string{"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast (RFC 9665)"},
	[2]string{"2001:2::/48", "Benchmarking (RFC 5180)"},
	[2]string{"2001:3::/32", "AMT (RFC 7450)"},
	[2]string{"2001:4:112::/48", "AS112-v6 (RFC 7535)"},
	[2]string{"2001:10::/28", "Deprecated (previously ORCHID) (RFC 4843)"},
	[2]string{"2001:20::/28", "ORCHIDv2 (RFC 7343)"},
	[2]string{"2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)"},
	[2]string{"2001::/23", "IETF Protocol Assignments (RFC 2928)"},
	[2]string{"2001:db8::/32", "Documentation (RFC 3849)"},
	[2]string{"2002::/16", "6to4 (RFC 3056)"},
	[2]string{"2620:4f:8000::/48", "Direct Delegation AS112 Service (RFC 7534)"},
	[2]string{"3fff::/20", "Documentation (RFC 9637)"},
	[2]string{"5f00::/16", "Segment Routing (SRv6) SIDs (RFC 9602)"},
	[2]string{"fc00::/7", "Unique-Local (RFC 4193)"},
	[2]string{"fe80::/10", "Link-Local Unicast (RFC 4291)"},
	[2]string{"fec0::/10", "Site-Local, deprecated (RFC 3879)"},
	[2]string{"ff00::/8", "Multicast (RFC 4291)"},
)

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
	globalUnicast  = netip.MustParsePrefix("2000::/3")
)

// ForbiddenAddress tells whether merchants' webhooks must not reach ip, and
// why (the registry's name of its range). IPv4 embedded in IPv6 is
// unwrapped and checked: IPv4-mapped and NAT64 (64:ff9b::/96, allowed only
// when the IPv4 address inside is public, as a worker behind DNS64 needs),
// and 6to4 and Teredo, which are refused whatever they carry but name it.
func ForbiddenAddress(ip netip.Addr) (string, bool) {
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		for _, r := range specialIPv4 {
			if r.prefix.Contains(ip) {
				return r.name, true
			}
		}
		return "", false
	}
	if !ip.Is6() {
		return "not an IP address", true
	}
	b := ip.As16()
	if nat64WellKnown.Contains(ip) {
		inner := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if why, bad := ForbiddenAddress(inner); bad {
			return fmt.Sprintf("IPv4-IPv6 Translat. (RFC 6052) to %s, %s", inner, why), true
		}
		return "", false
	}
	var embedded string
	switch {
	case sixToFour.Contains(ip):
		embedded = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}).String()
	case teredo.Contains(ip):
		// The client's address is the last 32 bits, inverted.
		embedded = netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}).String()
	}
	for _, r := range specialIPv6 {
		if r.prefix.Contains(ip) {
			if embedded != "" {
				return r.name + " carrying " + embedded, true
			}
			return r.name, true
		}
	}
	if !globalUnicast.Contains(ip) {
		return "outside global unicast space 2000::/3 (RFC 4291)", true
	}
	return "", false
}

// publicOnly refuses every special-purpose address (see ForbiddenAddress).
// It runs on the address actually dialled, after DNS resolution, so a
// hostname that resolves (or re-resolves) to an internal address is refused
// as well.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q", errForbiddenAddress, host)
	}
	if why, bad := ForbiddenAddress(ip); bad {
		return fmt.Errorf("%w: %s (%s)", errForbiddenAddress, ip, why)
	}
	return nil
}

// newTransport dials merchants directly (no proxy from the environment, which
// would dial on our behalf and bypass the check) and, unless private
// networks are allowed, only at public addresses.
func newTransport(allowPrivate bool) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = publicOnly
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return t
}
