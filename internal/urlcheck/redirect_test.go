package urlcheck_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// TestCheckRedirect_SSRF1: redirects stay on the origin, in https, without
// userinfo, within MaxRedirects.
func TestCheckRedirect_SSRF1(t *testing.T) {
	via := func(u string, n int) []*http.Request {
		p, _ := url.Parse(u)
		out := make([]*http.Request, n)
		for i := range out {
			out[i] = &http.Request{URL: p}
		}
		return out
	}
	req := func(u string) *http.Request {
		p, _ := url.Parse(u)
		return &http.Request{URL: p}
	}
	ok := [][2]string{
		{"https://as.example.com/a", "https://as.example.com/b?x=1"},
		{"https://as.example.com/a", "https://AS.EXAMPLE.COM:443/b"},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b#frag"},
	}
	for _, c := range ok {
		if err := urlcheck.CheckRedirect(req(c[1]), via(c[0], 1)); err != nil {
			t.Errorf("%s → %s: %v", c[0], c[1], err)
		}
	}
	refused := map[[2]string]string{
		{"https://as.example.com/a", "https://evil.example.com/b"}:    "another origin",
		{"https://as.example.com/a", "https://as.example.com:8443/b"}: "another origin",
		{"https://as.example.com/a", "http://as.example.com/b"}:       "leaves https",
		{"https://127.0.0.1:1/a", "http://127.0.0.1:1/b"}:             "leaves https",
		{"http://127.0.0.1:1/a", "http://127.0.0.1:2/b"}:              "another origin",
		{"https://as.example.com/a", "https://u:pw@as.example.com/b"}: "userinfo",
		{"https://as.example.com/a", "javascript:alert(1)"}:           "leaves https",
		{"http://127.0.0.1:1/a", "file:///etc/passwd"}:                "another origin",
	}
	for c, why := range refused {
		err := urlcheck.CheckRedirect(req(c[1]), via(c[0], 1))
		var re *urlcheck.RedirectError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, why) {
			t.Errorf("%s → %s: %v, want %q", c[0], c[1], err, why)
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("userinfo shown: %v", err)
		}
	}
	err := urlcheck.CheckRedirect(req("https://as.example.com/x"), via("https://as.example.com/x", urlcheck.MaxRedirects))
	if err == nil || !strings.Contains(err.Error(), "stopped after") {
		t.Errorf("redirect %d: %v", urlcheck.MaxRedirects+1, err)
	}
}

// TestClient_KeepsTheRest: Client copies the caller's client, replacing
// only CheckRedirect.
func TestClient_KeepsTheRest(t *testing.T) {
	base := &http.Client{Timeout: 42, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	c := urlcheck.Client(base)
	if c == base || c.Timeout != 42 || c.CheckRedirect == nil {
		t.Errorf("Client = %+v", c)
	}
	if err := c.CheckRedirect(&http.Request{URL: &url.URL{Scheme: "https", Host: "b"}}, []*http.Request{{URL: &url.URL{Scheme: "https", Host: "a"}}}); err == nil {
		t.Error("cross-origin redirect allowed")
	}
	if urlcheck.Client(nil) == nil {
		t.Error("Client(nil) = nil")
	}
}

// TestError_HidesUserinfo: a refused URL's message never repeats its
// userinfo, which may hold a password or a token.
func TestError_HidesUserinfo(t *testing.T) {
	for _, raw := range []string{
		"https://user:hunter2@as.example.com/x",
		"http://tok:hunter2@as.example.com/x",
		"javascript://x:hunter2@y/%0aalert(1)",
		"https://user:hunter2@as.example.com/%zz",
	} {
		_, err := urlcheck.HTTPSOrLoopback("issuer", raw)
		if err == nil {
			t.Fatalf("%q accepted", raw)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(fmtSharp(err), "hunter2") {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func fmtSharp(err error) string {
	var e *urlcheck.Error
	if errors.As(err, &e) {
		return e.GoString()
	}
	return ""
}
