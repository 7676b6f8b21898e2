package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/netguard"
)

// Every test here injects an oauthtest.Network: no name is ever looked up
// in DNS, and no connection is ever opened to an address other than
// 127.0.0.1.

// forbiddenAddrs are addresses a server-side client must never connect to,
// with a word the reason must hold.
var forbiddenAddrs = []struct{ addr, reason string }{
	{"169.254.169.254", "metadata"},
	{"169.254.170.2", "metadata"},
	{"100.100.100.200", "metadata"},
	{"168.63.129.16", "metadata"},
	{"192.0.0.192", "metadata"},
	{"fd00:ec2::254", "metadata"},
	{"::ffff:169.254.169.254", "metadata"}, // IPv4-mapped
	{"64:ff9b::a9fe:a9fe", "metadata"},     // NAT64 of 169.254.169.254
	{"2002:a9fe:a9fe::1", "metadata"},      // 6to4 of 169.254.169.254
	{"0.0.0.0", "unspecified"},
	{"::", "unspecified"},
	{"127.0.0.1", "loopback"},
	{"127.8.9.10", "loopback"},
	{"::1", "loopback"},
	{"::ffff:127.0.0.1", "loopback"},
	{"10.0.0.7", "private"},
	{"172.16.0.1", "private"},
	{"172.31.255.255", "private"},
	{"192.168.1.1", "private"},
	{"fc00::1", "private"},
	{"fd12:3456::1", "private"},
	{"169.254.1.1", "link-local"},
	{"fe80::1", "link-local"},
	{"fe80::1%eth0", "link-local"},
	{"100.64.0.1", "CGNAT"},
	{"100.127.255.254", "CGNAT"},
	{"224.0.0.1", "multicast"},
	{"239.255.255.250", "multicast"},
	{"ff02::1", "multicast"},
	{"255.255.255.255", "reserved"},
	{"240.0.0.1", "reserved"},
	{"198.18.0.1", "benchmarking"},
	{"192.0.2.1", "documentation"},
	{"2001:db8::1", "documentation"},
	{"fec0::1", "site-local"},
	{"2001::1", "IETF"}, // Teredo
}

// publicAddrs are globally reachable addresses the policy allows.
var publicAddrs = []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}

func TestForbidden_SSRF1(t *testing.T) {
	for _, tt := range forbiddenAddrs {
		reason, bad := netguard.Forbidden(netip.MustParseAddr(tt.addr))
		if !bad || !strings.Contains(reason, tt.reason) {
			t.Errorf("Forbidden(%s) = %q, %v; want a %q reason", tt.addr, reason, bad, tt.reason)
		}
	}
	for _, a := range publicAddrs {
		if reason, bad := netguard.Forbidden(netip.MustParseAddr(a)); bad {
			t.Errorf("Forbidden(%s) = %q", a, reason)
		}
	}
	if _, bad := netguard.Forbidden(netip.Addr{}); !bad {
		t.Error("the zero Addr is allowed")
	}
}

// TestDialContext_SSRF1_AddressLiterals: an address literal that is
// forbidden is refused with a *BlockedError naming it, and the dialer is
// never asked; nothing is looked up.
func TestDialContext_SSRF1_AddressLiterals(t *testing.T) {
	for _, tt := range forbiddenAddrs {
		t.Run(tt.addr, func(t *testing.T) {
			n := &oauthtest.Network{}
			p := &netguard.Policy{Resolver: n, Dial: n.Dial}
			_, err := p.DialContext(context.Background(), "tcp", net.JoinHostPort(tt.addr, "443"))
			var be *netguard.BlockedError
			if !errors.As(err, &be) || !strings.Contains(be.Reason, tt.reason) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), "SSRF-1") {
				t.Errorf("message %q", err)
			}
			if d, l := n.Dials(), n.Lookups(); len(d) != 0 || len(l) != 0 {
				t.Errorf("dialled %q, looked up %q", d, l)
			}
		})
	}
}

// TestDialContext_SSRF1_PublicAddressDialled: an allowed address goes to
// the dialer as it is.
func TestDialContext_SSRF1_PublicAddressDialled(t *testing.T) {
	for _, a := range publicAddrs {
		n := &oauthtest.Network{}
		p := &netguard.Policy{Resolver: n, Dial: n.Dial}
		_, err := p.DialContext(context.Background(), "tcp", net.JoinHostPort(a, "443"))
		if err == nil || !strings.Contains(err.Error(), "tests reach 127.0.0.1 only") {
			t.Errorf("%s: err = %v, want the fake dialer's refusal", a, err)
		}
		if !n.Dialled(a) || len(n.Dials()) != 1 {
			t.Errorf("%s: dials %q", a, n.Dials())
		}
	}
}

// TestDialContext_SSRF1_Names: a name is resolved with the injected
// resolver; the policy judges every address it resolves to, refuses the
// name when any is forbidden (DNS rebinding mixes them), and dials the
// checked address literal, never the name.
func TestDialContext_SSRF1_Names(t *testing.T) {
	n := &oauthtest.Network{Hosts: map[string][]netip.Addr{
		"metadata.rebind.test": {netip.MustParseAddr("169.254.169.254")},
		"mixed.rebind.test":    {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("10.1.2.3")},
		"v6.rebind.test":       {netip.MustParseAddr("fd00:ec2::254")},
		"public.test":          {netip.MustParseAddr("8.8.4.4"), netip.MustParseAddr("2001:4860:4860::8844")},
		"empty.test":           {},
	}}
	p := &netguard.Policy{Resolver: n, Dial: n.Dial}
	for _, host := range []string{"metadata.rebind.test", "mixed.rebind.test", "v6.rebind.test"} {
		_, err := p.DialContext(context.Background(), "tcp", host+":443")
		var be *netguard.BlockedError
		if !errors.As(err, &be) || be.Host != host || !strings.Contains(err.Error(), host) {
			t.Errorf("%s: err = %v", host, err)
		}
	}
	if d := n.Dials(); len(d) != 0 {
		t.Fatalf("dialled %q", d)
	}
	if _, err := p.DialContext(context.Background(), "tcp", "empty.test:443"); err == nil {
		t.Error("a name without addresses was dialled")
	}
	if _, err := p.DialContext(context.Background(), "tcp", "unknown.test:443"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("unknown name: %v", err)
	}
	_, _ = p.DialContext(context.Background(), "tcp", "public.test:443")
	if got, want := n.Dials(), []string{"8.8.4.4:443", "[2001:4860:4860::8844]:443"}; !slices.Equal(got, want) {
		t.Errorf("dials %q, want %q (each checked address in turn, never the name)", got, want)
	}
	want := []string{"metadata.rebind.test", "mixed.rebind.test", "v6.rebind.test", "empty.test", "unknown.test", "public.test"}
	if got := n.Lookups(); !slices.Equal(got, want) {
		t.Errorf("lookups %q, want %q", got, want)
	}
}

// TestDialContext_SSRF1_Rebinding: the check happens at every dial, so a
// name whose answer changes from public to private between two
// connections is refused the second time.
func TestDialContext_SSRF1_Rebinding(t *testing.T) {
	n := &oauthtest.Network{Hosts: map[string][]netip.Addr{"rebind.test": {netip.MustParseAddr("8.8.8.8")}}}
	p := &netguard.Policy{Resolver: n, Dial: n.Dial}
	_, _ = p.DialContext(context.Background(), "tcp", "rebind.test:443")
	n.Hosts["rebind.test"] = []netip.Addr{netip.MustParseAddr("169.254.169.254")}
	_, err := p.DialContext(context.Background(), "tcp", "rebind.test:443")
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v", err)
	}
	if got := n.Dials(); !slices.Equal(got, []string{"8.8.8.8:443"}) {
		t.Errorf("dials %q", got)
	}
}

// TestDialContext_SSRF1_Allow: Allow admits ranges a deployment trusts,
// but a cloud metadata address only when allowed exactly.
func TestDialContext_SSRF1_Allow(t *testing.T) {
	n := &oauthtest.Network{}
	p := &netguard.Policy{Resolver: n, Dial: n.Dial, Allow: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00::/8"),
	}}
	for _, a := range []string{"10.1.2.3", "169.254.1.1", "fd00::5"} {
		if err := p.Check(a, netip.MustParseAddr(a)); err != nil {
			t.Errorf("Check(%s) = %v", a, err)
		}
	}
	for _, a := range []string{"169.254.169.254", "fd00:ec2::254", "192.168.0.1", "::ffff:169.254.169.254"} {
		if err := p.Check(a, netip.MustParseAddr(a)); err == nil {
			t.Errorf("Check(%s) allowed", a)
		}
	}
	exact := &netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}}
	if err := exact.Check("", netip.MustParseAddr("169.254.169.254")); err != nil {
		t.Errorf("exactly allowed metadata address: %v", err)
	}
	if len(n.Dials()) != 0 {
		t.Errorf("dials %q", n.Dials())
	}
}

func TestDialContext_OnlyTCP(t *testing.T) {
	n := &oauthtest.Network{}
	p := &netguard.Policy{Resolver: n, Dial: n.Dial}
	for _, network := range []string{"udp", "unix", "ip"} {
		if _, err := p.DialContext(context.Background(), network, "8.8.8.8:53"); err == nil {
			t.Errorf("%s allowed", network)
		}
	}
	for _, addr := range []string{"8.8.8.8", "8.8.8.8:99999", "8.8.8.8:http"} {
		if _, err := p.DialContext(context.Background(), "tcp", addr); err == nil {
			t.Errorf("%q allowed", addr)
		}
	}
	if len(n.Dials()) != 0 {
		t.Errorf("dials %q", n.Dials())
	}
}

// TestTransport_SSRF1: an http.Client over the policy's transport refuses
// a cloud metadata URL, by address or by a name resolving to it, without
// asking the dialer; it reaches a test server the policy allows; and it
// uses no proxy, whose address would hide the target's.
func TestTransport_SSRF1(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:3128")
	t.Setenv("HTTPS_PROXY", "http://192.0.2.1:3128")
	srv := oauthtest.NewServer(t)
	srv.Handle("/ok", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	n := &oauthtest.Network{Hosts: map[string][]netip.Addr{"metadata.google.internal": {netip.MustParseAddr("169.254.169.254")}}}
	p := &netguard.Policy{Resolver: n, Dial: n.Dial, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if p.Transport().Proxy != nil {
		t.Error("the transport uses a proxy")
	}
	hc := p.Client()
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"https://[fd00:ec2::254]/latest/api/token",
		"http://127.0.0.2/",
		"http://[::1]/",
	} {
		resp, err := hc.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		var be *netguard.BlockedError
		if !errors.As(err, &be) {
			t.Errorf("GET %s: err = %v, want a *BlockedError", u, err)
		}
	}
	for _, a := range []string{"169.254.169.254", "fd00:ec2::254", "127.0.0.2", "::1", "192.0.2.1"} {
		if n.Dialled(a) {
			t.Errorf("the dialer was asked for %s", a)
		}
	}
	resp, err := hc.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d", resp.StatusCode)
	}
}
