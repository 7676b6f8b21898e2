package oauthtest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
)

// Network is a fake network for tests of address policies (SSRF-1): a
// resolver that answers from a table, never from DNS, and a dialer that
// records every address it is asked for and connects to 127.0.0.1 only.
// Asked for any other address, it refuses without opening a connection,
// so that a test can assert that a forbidden address was never dialled.
//
// Its LookupNetIP and Dial fit netguard.Policy's Resolver and Dial, and
// Dial an http.Transport's DialContext.
type Network struct {
	// Hosts maps a host name to the addresses it resolves to.
	Hosts map[string][]netip.Addr

	mu      sync.Mutex
	lookups []string
	dials   []string
}

// LookupNetIP resolves host from Hosts, and records that it was asked.
func (n *Network) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lookups = append(n.lookups, host)
	if addrs, ok := n.Hosts[host]; ok {
		return slices.Clone(addrs), nil
	}
	return nil, &net.DNSError{Err: "no such host (oauthtest.Network)", Name: host, IsNotFound: true}
}

// Dial records address and connects to it when its host is 127.0.0.1;
// otherwise it refuses.
func (n *Network) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, address)
	n.mu.Unlock()
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("oauthtest.Network: refusing to dial %s: tests reach 127.0.0.1 only", address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// Lookups returns the host names resolved, in order.
func (n *Network) Lookups() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.lookups)
}

// Dials returns the addresses the dialer was asked for, in order.
func (n *Network) Dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.dials)
}

// Dialled reports whether the dialer was asked for an address whose host
// is host (a name or an address, IPv6 without brackets).
func (n *Network) Dialled(host string) bool {
	want := host
	if a, err := netip.ParseAddr(host); err == nil {
		want = a.Unmap().String()
	}
	for _, d := range n.Dials() {
		h, _, err := net.SplitHostPort(d)
		if err != nil {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			h = a.Unmap().String()
		}
		if h == want {
			return true
		}
	}
	return false
}
