package urlcheck_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// FuzzHTTPSOrLoopback: the URL rule (RDR-1, URL-1). An accepted URL is
// absolute https, or http on a loopback host, with a host, no userinfo,
// no fragment and no opaque part; a refused one is a *Error whose message
// is safe to print and never repeats a password.
func FuzzHTTPSOrLoopback(f *testing.F) {
	for _, s := range []string{
		"https://as.example.com/authorize", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost/cb",
		"javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "http://as.example.com/x",
		"https://user:hunter2@as.example.com/x", "https://:443/x", "https:///x", "https://as.example.com/x#f",
		"HTTPS://AS.EXAMPLE.COM", "http://127.0.0.1.nip.io", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/",
		"https://as.example.com\\@evil.example/", "https://evil.example%2f@as.example.com/", "\x00https://a", "https://a b/",
		"https://tok:en@x@y/", "//as.example.com", "https:opaque",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := urlcheck.HTTPSOrLoopback("test", raw)
		if err != nil {
			var ue *urlcheck.Error
			if !errors.As(err, &ue) || ue.Role != "test" || u != nil {
				t.Fatalf("error %#v", err)
			}
			msg := err.Error()
			if strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("unsafe message %q", msg)
			}
			if p, err := url.Parse(raw); err == nil && p.User != nil {
				if pw, ok := p.User.Password(); ok && len(pw) >= 6 && strings.Count(raw, pw) == 1 && strings.Contains(msg, pw) {
					t.Fatalf("the message repeats the password %q: %s", pw, msg)
				}
			}
			return
		}
		scheme := strings.ToLower(u.Scheme)
		if scheme != "https" && (scheme != "http" || !urlcheck.IsLoopbackHost(u.Hostname())) {
			t.Fatalf("accepted %q", raw)
		}
		if u.User != nil || u.Fragment != "" || u.Opaque != "" || u.Hostname() == "" {
			t.Fatalf("accepted %q: %#v", raw, u)
		}
	})
}

// FuzzCheckRedirect: a redirect is followed only to the same origin, never
// from https to http, never to a target with userinfo or that the URL rule
// refuses, and never past MaxRedirects.
func FuzzCheckRedirect(f *testing.F) {
	for _, s := range [][2]string{
		{"https://as.example.com/a", "https://as.example.com/b"},
		{"https://as.example.com/a", "https://evil.example.com/b"},
		{"https://as.example.com/a", "http://as.example.com/b"},
		{"https://as.example.com/a", "https://AS.example.com:443/b"},
		{"https://as.example.com/a", "https://u:p@as.example.com/b"},
		{"http://127.0.0.1:1/a", "http://127.0.0.1:2/b"},
		{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b#x"},
	} {
		f.Add(s[0], s[1], uint8(1))
	}
	f.Fuzz(func(t *testing.T, from, to string, hops uint8) {
		fu, err1 := url.Parse(from)
		tu, err2 := url.Parse(to)
		if err1 != nil || err2 != nil || hops == 0 {
			return
		}
		via := make([]*http.Request, int(hops)%8+1)
		for i := range via {
			via[i] = &http.Request{URL: fu}
		}
		err := urlcheck.CheckRedirect(&http.Request{URL: tu}, via)
		if err != nil {
			var re *urlcheck.RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("error %#v", err)
			}
			return
		}
		target := *tu
		target.Fragment, target.RawFragment = "", ""
		_, rule := urlcheck.HTTPSOrLoopback("t", target.String())
		switch {
		case len(via) >= urlcheck.MaxRedirects:
			t.Fatalf("followed redirect %d", len(via)+1)
		case !urlcheck.SameOrigin(fu, tu):
			t.Fatalf("followed %s → %s across origins", from, to)
		case strings.EqualFold(fu.Scheme, "https") && !strings.EqualFold(tu.Scheme, "https"):
			t.Fatalf("followed %s → %s out of https", from, to)
		case tu.User != nil || rule != nil:
			t.Fatalf("followed %s → %s: %v", from, to, rule)
		}
	})
}
