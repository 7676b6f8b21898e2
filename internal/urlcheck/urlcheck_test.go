package urlcheck_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// TestHTTPSOrLoopback_URL1_RDR1: https anywhere, http only on loopback,
// nothing else: no script, data, file or custom schemes, no userinfo, no
// fragment, no relative or opaque URLs.
func TestHTTPSOrLoopback_URL1_RDR1(t *testing.T) {
	accepted := []string{
		"https://as.example.com/authorize",
		"HTTPS://AS.example.com/authorize?x=1",
		"http://127.0.0.1:8080/authorize",
		"http://127.1.2.3/cb",
		"http://localhost/cb",
		"http://LOCALHOST:1/cb",
		"http://[::1]:8080/cb",
	}
	for _, u := range accepted {
		if _, err := urlcheck.HTTPSOrLoopback("test", u); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
	refused := map[string]string{
		"javascript:alert(document.cookie)":        "scheme",
		"JAVASCRIPT:alert(1)":                      "scheme",
		"data:text/html,<script>alert(1)</script>": "scheme",
		"file:///etc/passwd":                       "scheme",
		"vbscript:msgbox(1)":                       "scheme",
		"ftp://as.example.com/x":                   "scheme",
		"http://as.example.com/authorize":          "loopback",
		"http://127.0.0.1.nip.io/cb":               "loopback",
		"http://localhost.evil.example/cb":         "loopback",
		"http://0.0.0.0/cb":                        "loopback",
		"http://[::ffff:10.0.0.1]/cb":              "loopback",
		"https://user:pw@as.example.com/x":         "userinfo",
		"https://as.example.com/x#frag":            "fragment",
		"//as.example.com/x":                       "absolute",
		"/authorize":                               "absolute",
		"https:opaque":                             "host",
		"https:///path-only":                       "host",
		"https://as.example.com/%zz":               "valid",
		"":                                         "absolute",
	}
	for u, why := range refused {
		_, err := urlcheck.HTTPSOrLoopback("authorization_endpoint", u)
		var ue *urlcheck.Error
		if !errors.As(err, &ue) {
			t.Errorf("%q accepted", u)
			continue
		}
		if ue.Role != "authorization_endpoint" || ue.URL != u || !strings.Contains(ue.Reason, why) {
			t.Errorf("%q: %+v, want a reason about %s", u, ue, why)
		}
	}
}

// TestOrigin_TOK2: the origin a token is bound to, with case and default
// ports normalized.
func TestOrigin_TOK2(t *testing.T) {
	tests := []struct{ a, b string }{
		{"https://MCP.example.com/mcp", "https://mcp.example.com"},
		{"https://mcp.example.com:443/x", "https://mcp.example.com"},
		{"http://127.0.0.1:80/x", "http://127.0.0.1"},
		{"http://[::1]:8080/x", "http://[::1]:8080"},
		{"HTTP://127.0.0.1:8080", "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.a)
		if got := urlcheck.Origin(u); got != tt.b {
			t.Errorf("Origin(%q) = %q, want %q", tt.a, got, tt.b)
		}
	}
	for _, pair := range [][2]string{
		{"https://h/a", "http://h/a"},
		{"https://h/a", "https://h:8443/a"},
		{"https://h/a", "https://h.evil/a"},
		{"http://127.0.0.1:1/", "http://127.0.0.1:2/"},
		{"http://127.0.0.1/", "http://localhost/"},
	} {
		a, _ := url.Parse(pair[0])
		b, _ := url.Parse(pair[1])
		if urlcheck.SameOrigin(a, b) {
			t.Errorf("SameOrigin(%q, %q)", pair[0], pair[1])
		}
	}
}
