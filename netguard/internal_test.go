package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

// TestControl_SSRF1: the default dialer's Control, the second line of
// defence, refuses a forbidden socket address. It is called directly: no
// socket is created.
func TestControl_SSRF1(t *testing.T) {
	p := &Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	for _, a := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "10.0.0.1:443", "[::1]:8080", "127.0.0.2:80"} {
		var be *BlockedError
		if err := p.control("tcp4", a, nil); !errors.As(err, &be) {
			t.Errorf("control(%s) = %v", a, err)
		}
	}
	for _, a := range []string{"8.8.8.8:443", "[2606:4700::1]:443", "127.0.0.1:8080"} {
		if err := p.control("tcp", a, nil); err != nil {
			t.Errorf("control(%s) = %v", a, err)
		}
	}
	if err := p.control("tcp", "not an address", nil); err == nil {
		t.Error("a malformed address passed")
	}
	if d := p.defaultDialer(); d.Control == nil {
		t.Error("the default dialer has no Control")
	}
}

// FuzzForbidden: the verdict on an IPv4 address is the same however it is
// written in IPv6 (mapped, NAT64, 6to4), Forbidden and Check agree, and
// Allow of the exact address admits it.
func FuzzForbidden(f *testing.F) {
	for _, s := range [][]byte{
		{169, 254, 169, 254}, {10, 0, 0, 1}, {8, 8, 8, 8}, {127, 0, 0, 1}, {100, 64, 0, 1}, {0, 0, 0, 0}, {255, 255, 255, 255},
		netip.MustParseAddr("fd00:ec2::254").AsSlice(), netip.MustParseAddr("2606:4700::1").AsSlice(), netip.MustParseAddr("fe80::1").AsSlice(),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		reason, bad := Forbidden(addr)
		if bad != (reason != "") {
			t.Fatalf("Forbidden(%s) = %q, %v", addr, reason, bad)
		}
		var p *Policy
		if err := p.Check("", addr); (err != nil) != bad {
			t.Fatalf("Check(%s) = %v, Forbidden %v", addr, err, bad)
		}
		if addr.Is4() {
			a4 := addr.As4()
			forms := []netip.Addr{
				netip.AddrFrom16(addr.As16()), // IPv4-mapped
				netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 10: 0, 11: 0, 12: a4[0], 13: a4[1], 14: a4[2], 15: a4[3]}),
				netip.AddrFrom16([16]byte{0x20, 0x02, a4[0], a4[1], a4[2], a4[3], 15: 1}),
			}
			for _, f := range forms {
				if r, b := Forbidden(f); b != bad || r != reason {
					t.Fatalf("Forbidden(%s) = %q, %v but Forbidden(%s) = %q, %v", f, r, b, addr, reason, bad)
				}
			}
		}
		if bad {
			exact := &Policy{Allow: []netip.Prefix{netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())}}
			if err := exact.Check("", addr); err != nil && addr.Zone() == "" {
				t.Fatalf("exactly allowed %s refused: %v", addr, err)
			}
		}
	})
}
