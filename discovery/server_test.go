package discovery_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// TestServerMetadataURLs_ASM2: the URL order for issuers with and without
// a path.
func TestServerMetadataURLs_ASM2(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://auth.example.com/tenant1", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
			"https://auth.example.com/.well-known/openid-configuration/tenant1",
			"https://auth.example.com/tenant1/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/a/b/", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/a/b",
			"https://auth.example.com/.well-known/openid-configuration/a/b",
			"https://auth.example.com/a/b/.well-known/openid-configuration",
		}},
		{"https://auth.example.com", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server",
			"https://auth.example.com/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server",
			"https://auth.example.com/.well-known/openid-configuration",
		}},
		{"http://127.0.0.1:8080/realms/mcp", []string{
			"http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/mcp",
			"http://127.0.0.1:8080/.well-known/openid-configuration/realms/mcp",
			"http://127.0.0.1:8080/realms/mcp/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		got, err := discovery.ServerMetadataURLs(tt.issuer)
		if err != nil {
			t.Fatalf("%s: %v", tt.issuer, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ServerMetadataURLs(%q)\n got %q\nwant %q", tt.issuer, got, tt.want)
		}
	}
	for _, bad := range []string{"http://auth.example.com", "https://auth.example.com?x=1", "javascript:alert(1)", "auth.example.com"} {
		if _, err := discovery.ServerMetadataURLs(bad); err == nil {
			t.Errorf("ServerMetadataURLs(%q) accepted", bad)
		}
	}
}

// asDoc returns a valid metadata document for issuer.
func asDoc(issuer string) map[string]any {
	return map[string]any{
		"issuer":                           issuer,
		"authorization_endpoint":           issuer + "/authorize",
		"token_endpoint":                   issuer + "/token",
		"code_challenge_methods_supported": []string{"S256"},
	}
}

// TestFetcherServerMetadata_ASM1_ASM2: the fetcher probes the URLs in
// order and stops at the first document, RFC 8414 or OpenID Connect.
func TestFetcherServerMetadata_ASM1_ASM2(t *testing.T) {
	tests := []struct {
		name       string
		issuerPath string
		servedAt   string
		wantPaths  []string
	}{
		{"path: RFC 8414 path-inserted", "/tenant1", "/.well-known/oauth-authorization-server/tenant1",
			[]string{"/.well-known/oauth-authorization-server/tenant1"}},
		{"path: OIDC path-inserted", "/tenant1", "/.well-known/openid-configuration/tenant1",
			[]string{"/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1"}},
		{"path: OIDC path-appended", "/tenant1", "/tenant1/.well-known/openid-configuration",
			[]string{"/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1", "/tenant1/.well-known/openid-configuration"}},
		{"no path: RFC 8414", "", "/.well-known/oauth-authorization-server",
			[]string{"/.well-known/oauth-authorization-server"}},
		{"no path: OIDC", "", "/.well-known/openid-configuration",
			[]string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oauthtest.NewServer(t)
			issuer := srv.URL + tt.issuerPath
			srv.Handle(tt.servedAt, prmDoc(asDoc(issuer)))
			md, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), issuer)
			if err != nil {
				t.Fatal(err)
			}
			if md.Issuer != issuer || md.URL != srv.URL+tt.servedAt || md.Synthesized {
				t.Errorf("got issuer %q at %q (synthesized %v)", md.Issuer, md.URL, md.Synthesized)
			}
			if got := srv.Paths(); !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("requested %q, want %q", got, tt.wantPaths)
			}
		})
	}
}

// TestFetcherServerMetadata_ASM2_NoneFound: every URL answers 404 →
// ErrNoServerMetadata after trying all of them; a 5xx stops at once.
func TestFetcherServerMetadata_ASM2_NoneFound(t *testing.T) {
	srv := oauthtest.NewServer(t)
	_, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv.URL+"/t")
	if !errors.Is(err, discovery.ErrNoServerMetadata) {
		t.Errorf("err = %v, want ErrNoServerMetadata", err)
	}
	if n := srv.Total(); n != 3 {
		t.Errorf("%d probes, want 3", n)
	}

	srv5 := oauthtest.NewServer(t)
	srv5.Handle("/.well-known/oauth-authorization-server", status(502))
	srv5.Handle("/.well-known/openid-configuration", prmDoc(asDoc(srv5.URL)))
	_, err = (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv5.URL)
	var se *discovery.StatusError
	if !errors.As(err, &se) || se.StatusCode != 502 || errors.Is(err, discovery.ErrNoServerMetadata) {
		t.Errorf("err = %v, want the 502", err)
	}
	if n := srv5.Count("/.well-known/openid-configuration"); n != 0 {
		t.Errorf("fell through after a 5xx (%d requests)", n)
	}

	_, err = (&discovery.Fetcher{}).ServerMetadata(context.Background(), oauthtest.ClosedURL(t))
	if err == nil || errors.Is(err, discovery.ErrNoServerMetadata) {
		t.Errorf("unreachable server: err = %v, want a network error", err)
	}
}

// TestFetcherServerMetadata_ASM2_CatchAll: an issuer on a site that
// answers every path with its HTML front page still has its OpenID
// configuration found; when nothing but the front page is there, the
// error names what each URL gave.
func TestFetcherServerMetadata_ASM2_CatchAll(t *testing.T) {
	srv := oauthtest.NewServer(t)
	srv.Handle("/.well-known/oauth-authorization-server", appShell)
	srv.Handle("/.well-known/openid-configuration", prmDoc(asDoc(srv.URL)))
	md, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv.URL)
	if err != nil || md.URL != srv.URL+"/.well-known/openid-configuration" {
		t.Fatalf("md = %+v, err = %v", md, err)
	}

	only := oauthtest.NewServer(t)
	only.Handle("/.well-known/oauth-authorization-server", appShell)
	only.Handle("/.well-known/openid-configuration", appShell)
	_, err = (&discovery.Fetcher{}).ServerMetadata(context.Background(), only.URL)
	var de *discovery.DocumentError
	if !errors.Is(err, discovery.ErrNoServerMetadata) || !errors.As(err, &de) {
		t.Fatalf("err = %v, want ErrNoServerMetadata holding a *DocumentError", err)
	}
	for _, want := range []string{only.URL + "/.well-known/oauth-authorization-server", only.URL + "/.well-known/openid-configuration", "got HTML, not JSON"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

// TestFetcherServerMetadata_ASM3_IssuerMismatch: metadata whose issuer
// differs from the one the URL was built from, even by a trailing slash,
// is not used: *IssuerMismatchError.
func TestFetcherServerMetadata_ASM3_IssuerMismatch(t *testing.T) {
	variants := map[string]func(issuer string) string{
		"trailing slash": func(i string) string { return i + "/" },
		"upper case":     func(i string) string { return strings.ToUpper(i[:4]) + i[4:] },
		"other issuer":   func(string) string { return "https://evil.example" },
		"missing":        func(string) string { return "" },
	}
	for name, mutate := range variants {
		t.Run(name, func(t *testing.T) {
			srv := oauthtest.NewServer(t)
			issuer := srv.URL
			doc := asDoc(issuer)
			doc["issuer"] = mutate(issuer)
			srv.Handle("/.well-known/oauth-authorization-server", prmDoc(doc))
			srv.Handle("/.well-known/openid-configuration", prmDoc(doc))
			md, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), issuer)
			var im *discovery.IssuerMismatchError
			if !errors.As(err, &im) {
				t.Fatalf("err = %v (md %+v), want *IssuerMismatchError", err, md)
			}
			if im.Want != issuer || im.Issuer != mutate(issuer) {
				t.Errorf("error fields: %+v", im)
			}
			if n := srv.Count("/authorize") + srv.Count("/token"); n != 0 {
				t.Errorf("endpoints used %d times", n)
			}
		})
	}
}

// TestFetcherServerMetadata_ASM3_MismatchThenMatch: a mismatching document
// at the first URL does not hide a good one at the next.
func TestFetcherServerMetadata_ASM3_MismatchThenMatch(t *testing.T) {
	srv := oauthtest.NewServer(t)
	bad := asDoc(srv.URL + "/")
	srv.Handle("/.well-known/oauth-authorization-server", prmDoc(bad))
	srv.Handle("/.well-known/openid-configuration", prmDoc(asDoc(srv.URL)))
	md, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv.URL)
	if err != nil || md.URL != srv.URL+"/.well-known/openid-configuration" {
		t.Fatalf("md %+v, err %v", md, err)
	}
}

// TestFetcherServerMetadata_URL1_Endpoints: every endpoint must be https
// or loopback http; javascript:, data:, file: are refused when the
// metadata is read, before anything could open them.
func TestFetcherServerMetadata_URL1_Endpoints(t *testing.T) {
	for _, field := range []string{"authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"} {
		for _, bad := range []string{"javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "http://as.example/x", "vbscript:msgbox", "//as.example/x"} {
			srv := oauthtest.NewServer(t)
			doc := asDoc(srv.URL)
			doc[field] = bad
			srv.Handle("/.well-known/oauth-authorization-server", prmDoc(doc))
			_, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv.URL)
			var de *discovery.DocumentError
			if !errors.As(err, &de) || !strings.Contains(de.Reason, field) {
				t.Errorf("%s=%q: err = %v, want a DocumentError about %s", field, bad, err, field)
			}
		}
	}
	srv := oauthtest.NewServer(t)
	doc := asDoc(srv.URL)
	delete(doc, "token_endpoint")
	srv.Handle("/.well-known/oauth-authorization-server", prmDoc(doc))
	if _, err := (&discovery.Fetcher{}).ServerMetadata(context.Background(), srv.URL); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
		t.Errorf("missing token_endpoint: err = %v", err)
	}
}

// TestServerMetadata_PKCE1_SupportsPKCE: S256 must be listed; synthesized
// metadata is assumed to.
func TestServerMetadata_PKCE1_SupportsPKCE(t *testing.T) {
	tests := []struct {
		md   discovery.ServerMetadata
		want bool
	}{
		{discovery.ServerMetadata{CodeChallengeMethodsSupported: []string{"S256"}}, true},
		{discovery.ServerMetadata{CodeChallengeMethodsSupported: []string{"plain", "S256"}}, true},
		{discovery.ServerMetadata{CodeChallengeMethodsSupported: []string{"plain"}}, false},
		{discovery.ServerMetadata{CodeChallengeMethodsSupported: []string{"s256"}}, false},
		{discovery.ServerMetadata{}, false},
		{discovery.ServerMetadata{Synthesized: true}, true},
	}
	for _, tt := range tests {
		if got := tt.md.SupportsPKCE(); got != tt.want {
			t.Errorf("SupportsPKCE(%q, synthesized %v) = %v", tt.md.CodeChallengeMethodsSupported, tt.md.Synthesized, got)
		}
	}
}

// TestDefaultServerMetadata_PRM5: a server without any metadata gets
// /authorize, /token and /register at its origin, which is the issuer.
func TestDefaultServerMetadata_PRM5(t *testing.T) {
	md, err := discovery.DefaultServerMetadata("http://127.0.0.1:8080/some/mcp?x=1")
	if err != nil {
		t.Fatal(err)
	}
	want := discovery.ServerMetadata{
		Issuer:                        "http://127.0.0.1:8080",
		AuthorizationEndpoint:         "http://127.0.0.1:8080/authorize",
		TokenEndpoint:                 "http://127.0.0.1:8080/token",
		RegistrationEndpoint:          "http://127.0.0.1:8080/register",
		CodeChallengeMethodsSupported: []string{"S256"},
		Synthesized:                   true,
	}
	if !reflect.DeepEqual(*md, want) {
		t.Errorf("got %+v\nwant %+v", *md, want)
	}
	if o, _ := discovery.Origin("https://h:8443/a/b"); o != "https://h:8443" {
		t.Errorf("Origin = %q", o)
	}
	if _, err := discovery.DefaultServerMetadata("http://mcp.example.com/mcp"); err == nil {
		t.Error("plain http accepted")
	}
}
