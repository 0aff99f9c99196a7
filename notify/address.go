package notify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// errForbiddenAddress is what the dialer says when a webhook URL resolves to
// an address merchants must not reach through us.
var errForbiddenAddress = errors.New("webhook address is not a public internet address")

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, internal to many
// clouds; net.IP has no predicate for it.
var sharedAddressSpace = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// publicOnly refuses loopback, private, link-local (cloud metadata lives at
// 169.254.169.254), unspecified, multicast and shared addresses. It runs on
// the address actually dialled, after DNS resolution, so a hostname that
// resolves (or re-resolves) to an internal address is refused as well.
func publicOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("%w: %q", errForbiddenAddress, host)
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || sharedAddressSpace.Contains(ip) {
		return fmt.Errorf("%w: %s", errForbiddenAddress, ip)
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
