// Package netguard keeps a server-side MCP client from being used to reach
// addresses it should not (SSRF-1).
//
// An MCP client follows URLs that untrusted servers hand it: a
// resource_metadata URL in a WWW-Authenticate challenge, the
// authorization_servers of protected resource metadata, the endpoints of
// authorization server metadata. On a desktop that is the user's own
// network; on a server it is the deployment's, where such a URL could name
// a cloud metadata endpoint (http://169.254.169.254/…) or an internal
// service. A [Policy] refuses to connect to private, loopback, link-local,
// unspecified, multicast, shared (CGNAT), reserved and cloud metadata
// addresses.
//
// The check applies to the address actually dialled, not to the name in
// the URL: names are resolved first, every address is checked, and the
// connection goes to a checked address literal, so a name that resolves to
// a public address for a check and to a private one for the connection
// (DNS rebinding) gains nothing.
//
// Use [Policy.Transport] or [Policy.Client] for the HTTP requests, or set
// mcpauth.Config.Network. The transport uses no proxy: with a proxy the
// client would dial the proxy, and the check would not see the target.
// Deployments that must use an egress proxy should enforce such a policy
// there.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// A Resolver resolves a host name to IP addresses. *net.Resolver
// implements it; tests inject their own, so that no lookup leaves the
// machine.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc dials a network address, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Policy decides which addresses a client may connect to. The zero value
// refuses every address [Forbidden] names and allows the rest. A Policy
// must not be changed once in use.
type Policy struct {
	// Allow lists address ranges to permit although Forbidden names them,
	// such as an authorization server on the deployment's private
	// network. Cloud metadata addresses are refused even then, unless
	// listed as single addresses (a /32 or /128 prefix).
	Allow []netip.Prefix
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dial connects to an address the policy accepted, always an IP
	// literal and a port; nil means a net.Dialer with a 30 s timeout whose
	// Control checks the connected address once more.
	Dial DialFunc
}

// BlockedError reports a connection the policy refused.
type BlockedError struct {
	Host   string     // the host asked for, a name or an address
	Addr   netip.Addr // the address refused
	Reason string     // the range it falls in, such as "link-local"
}

func (e *BlockedError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("netguard: refusing to connect to %s: it resolves to %s, a %s address (SSRF-1)", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("netguard: refusing to connect to %s, a %s address (SSRF-1)", e.Addr, e.Reason)
}

// rule is a forbidden range with the reason given for it.
type rule struct {
	prefix   netip.Prefix
	reason   string
	metadata bool // a cloud metadata endpoint: Allow needs the exact address
}

func mustRule(cidr, reason string, metadata bool) rule {
	return rule{prefix: netip.MustParsePrefix(cidr), reason: reason, metadata: metadata}
}

// rules lists the forbidden ranges: IANA's special-purpose registries
// (RFC 6890 and successors) for addresses that are not globally
// reachable, and the metadata endpoints of the major clouds. The metadata
// ones come first so that they are the reason reported.
var rules = []rule{
	mustRule("169.254.169.254/32", "cloud metadata (AWS, GCP, Azure, OCI, …)", true),
	mustRule("169.254.170.2/32", "cloud metadata (AWS ECS task)", true),
	mustRule("169.254.169.123/32", "cloud metadata (AWS time sync)", true),
	mustRule("100.100.100.200/32", "cloud metadata (Alibaba Cloud)", true),
	mustRule("168.63.129.16/32", "cloud metadata (Azure WireServer)", true),
	mustRule("192.0.0.192/32", "cloud metadata (Oracle Cloud)", true),
	mustRule("fd00:ec2::254/128", "cloud metadata (AWS IMDS over IPv6)", true),
	mustRule("fd00:ec2::23/128", "cloud metadata (AWS DNS over IPv6)", true),

	mustRule("0.0.0.0/8", "unspecified (\"this network\")", false),
	mustRule("10.0.0.0/8", "private (RFC 1918)", false),
	mustRule("100.64.0.0/10", "shared address space (CGNAT, RFC 6598)", false),
	mustRule("127.0.0.0/8", "loopback", false),
	mustRule("169.254.0.0/16", "link-local", false),
	mustRule("172.16.0.0/12", "private (RFC 1918)", false),
	mustRule("192.0.0.0/24", "IETF protocol assignment", false),
	mustRule("192.0.2.0/24", "documentation (TEST-NET-1)", false),
	mustRule("192.88.99.0/24", "6to4 relay anycast", false),
	mustRule("192.168.0.0/16", "private (RFC 1918)", false),
	mustRule("198.18.0.0/15", "benchmarking", false),
	mustRule("198.51.100.0/24", "documentation (TEST-NET-2)", false),
	mustRule("203.0.113.0/24", "documentation (TEST-NET-3)", false),
	mustRule("224.0.0.0/4", "multicast", false),
	mustRule("240.0.0.0/4", "reserved", false), // includes 255.255.255.255, broadcast

	mustRule("::/128", "unspecified", false),
	mustRule("::1/128", "loopback", false),
	mustRule("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", false),
	mustRule("100::/64", "discard-only", false),
	mustRule("2001::/23", "IETF protocol assignment", false),
	mustRule("2001:db8::/32", "documentation", false),
	mustRule("fc00::/7", "unique local (private)", false),
	mustRule("fe80::/10", "link-local", false),
	mustRule("fec0::/10", "site-local (deprecated)", false),
	mustRule("ff00::/8", "multicast", false),
}

// Forbidden reports whether addr is one a server-side client must not
// connect to by default, and why. IPv4 addresses written in IPv6 form
// (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4
// address they carry.
func Forbidden(addr netip.Addr) (reason string, forbidden bool) {
	r, ok := match(addr)
	if !ok {
		return "", false
	}
	return r.reason, true
}

func match(addr netip.Addr) (rule, bool) {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return rule{reason: "invalid"}, true
	}
	if v4, ok := embeddedIPv4(addr); ok {
		addr = v4
	}
	for _, r := range rules {
		if r.prefix.Contains(addr) {
			return r, true
		}
	}
	return rule{}, false
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for, when
// it is a form that reaches an IPv4 host: IPv4-mapped, NAT64 (RFC 6052)
// or 6to4 (RFC 3056). Teredo (2001::/32) is refused as a whole.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if a.Is4In6() {
		return a.Unmap(), true
	}
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo4.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// Check returns a *BlockedError when the policy refuses addr, else nil.
// host is the name or address asked for, for the error message.
func (p *Policy) Check(host string, addr netip.Addr) error {
	r, forbidden := match(addr)
	if !forbidden {
		return nil
	}
	if p != nil {
		// An allowed range may name the address as written or, for an
		// IPv6 form of an IPv4 address, the IPv4 address it carries.
		written := addr.WithZone("").Unmap()
		carried := written
		if v4, ok := embeddedIPv4(written); ok {
			carried = v4
		}
		for _, a := range p.Allow {
			if !a.Contains(written) && !a.Contains(carried) {
				continue
			}
			if !r.metadata || a.IsSingleIP() {
				return nil
			}
		}
	}
	return &BlockedError{Host: host, Addr: addr, Reason: r.reason}
}

func (p *Policy) resolver() Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// DialContext connects to address (host:port) as the policy allows: an
// address literal is checked; a name is resolved with the Resolver, and
// refused when any of its addresses is forbidden (a name that mixes
// public and private addresses is not trusted with either). The
// connection goes to a checked address literal, trying each in turn.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("netguard: network %q is not supported", network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("netguard: bad port in %q", address)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		lookup := "ip"
		switch network {
		case "tcp4":
			lookup = "ip4"
		case "tcp6":
			lookup = "ip6"
		}
		if addrs, err = p.resolver().LookupNetIP(ctx, lookup, host); err != nil {
			return nil, fmt.Errorf("netguard: resolving %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("netguard: %s has no address", host)
		}
	}
	for _, a := range addrs {
		if err := p.Check(host, a); err != nil {
			return nil, err
		}
	}
	dial := p.Dial
	if dial == nil {
		dial = p.defaultDialer().DialContext
	}
	var errs []error
	for _, a := range addrs {
		conn, err := dial(ctx, network, netip.AddrPortFrom(a.Unmap(), mustPort(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func mustPort(s string) uint16 {
	n, _ := strconv.ParseUint(s, 10, 16)
	return uint16(n)
}

// defaultDialer returns the dialer used when Dial is nil. Its Control
// checks the address of the socket about to connect: a second line of
// defence should anything dial a name.
func (p *Policy) defaultDialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
}

// control is a net.Dialer Control function that refuses forbidden
// addresses.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: unexpected address %q", address)
	}
	return p.Check(ap.Addr().String(), ap.Addr())
}

// Transport returns an http.Transport that connects through
// [Policy.DialContext], with no proxy and bounded response headers. Its
// other settings follow http.DefaultTransport.
func (p *Policy) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            p.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// Client returns an http.Client over [Policy.Transport] with a 30 s
// timeout.
func (p *Policy) Client() *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: 30 * time.Second}
}
