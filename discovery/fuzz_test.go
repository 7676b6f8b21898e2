package discovery_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// Fuzz targets for what a server sends during discovery. Each asserts
// properties of the result, not only the absence of a panic. Run them with
// scripts/fuzz.sh.

// hasControl reports a control character, which must never reach an
// error message raw (it could rewrite a terminal).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// formatChallenges writes challenges back as a header value, every
// parameter as a quoted string.
func formatChallenges(cs discovery.Challenges) string {
	var parts []string
	for _, c := range cs {
		s := c.Scheme
		if c.Token68 != "" {
			s += " " + c.Token68
		} else if len(c.Params) > 0 {
			keys := make([]string, 0, len(c.Params))
			for k := range c.Params {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var ps []string
			for _, k := range keys {
				v := strings.ReplaceAll(strings.ReplaceAll(c.Params[k], `\`, `\\`), `"`, `\"`)
				ps = append(ps, k+`="`+v+`"`)
			}
			s += " " + strings.Join(ps, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// FuzzParseChallenges: WWW-Authenticate parsing (PRM-2). Schemes and
// parameter names are tokens, names lower-cased; a challenge has a token68
// or parameters, never both; an error is a *ChallengeError within the
// header; parsing is deterministic; what parsed without error formats back
// to a header that parses to the same challenges; an oversized header is
// refused whole.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write"`,
		`Bearer realm="example", error="insufficient_scope", scope="a b", error_description="needs \"a\""`,
		`Basic realm="x", Bearer scope=a, DPoP algs="ES256 RS256", error=use_dpop_nonce`,
		`Negotiate YIIBhQYGKwYBBQUCoIIBeTCCAXWgMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCAT8Egg==`,
		`Bearer resource_metadata=https://mcp.example.com/x`,
		`Bearer ,, scope="x",,, Basic`,
		`Bearer scope="unterminated`,
		`Bearer scope="a\`,
		`Bearer a=b c=d`,
		`, ,`,
		`Bearer error="invalid_token", error_description="The access token expired"`,
		"Bearer scope=\"\x00\xff\"",
	} {
		f.Add(s, "")
	}
	f.Add(`Bearer scope="a"`, `DPoP error="use_dpop_nonce"`)
	f.Add(strings.Repeat("a", discovery.MaxChallengeBytes), "b")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		values := []string{v1}
		if v2 != "" {
			values = append(values, v2)
		}
		cs, err := discovery.ParseChallenges(values)
		if len(v1)+len(v2) > discovery.MaxChallengeBytes {
			if !errors.Is(err, discovery.ErrChallengeTooLarge) || cs != nil {
				t.Fatalf("oversized header: %v, %d challenges", err, len(cs))
			}
			return
		}
		if err != nil {
			var ce *discovery.ChallengeError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset > max(len(v1), len(v2)) || errors.Is(err, discovery.ErrChallengeTooLarge) {
				t.Fatalf("error %#v", err)
			}
			if hasControl(err.Error()) {
				t.Fatalf("error message with a control character: %q", err)
			}
		}
		for _, c := range cs {
			if !isToken(c.Scheme) {
				t.Fatalf("scheme %q", c.Scheme)
			}
			if c.Params == nil {
				t.Fatalf("nil Params in %+v", c)
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("token68 and params: %+v", c)
			}
			for k := range c.Params {
				if !isToken(k) || k != strings.ToLower(k) {
					t.Fatalf("param name %q", k)
				}
			}
			for _, s := range c.Scope() {
				if s == "" || strings.ContainsAny(s, " \t\r\n") {
					t.Fatalf("scope value %q", s)
				}
			}
		}
		again, err2 := discovery.ParseChallenges(values)
		if !reflect.DeepEqual(cs, again) || (err == nil) != (err2 == nil) {
			t.Fatal("parsing is not deterministic")
		}
		_, _ = cs.Bearer()
		if err != nil || len(cs) == 0 {
			return
		}
		header := formatChallenges(cs)
		back, err := discovery.ParseChallenges([]string{header})
		if len(header) > discovery.MaxChallengeBytes {
			// Quoting made it longer than a header may be.
			if !errors.Is(err, discovery.ErrChallengeTooLarge) {
				t.Fatalf("formatted header of %d bytes: %v", len(header), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("the formatted header %q does not parse: %v", header, err)
		}
		if !reflect.DeepEqual(back, cs) {
			t.Fatalf("round trip through %q:\n got %+v\nwant %+v", header, back, cs)
		}
	})
}

const (
	fuzzServerURL   = "https://mcp.example.com/public/mcp"
	fuzzMetadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"
	fuzzIssuer      = "https://auth.example.com/tenant1"
	fuzzASMURL      = "https://auth.example.com/.well-known/oauth-authorization-server/tenant1"
)

// FuzzParseResourceMetadata: a protected resource metadata document is
// accepted only when its resource covers the server (PRM-4, same origin)
// and every authorization server is an https or loopback http URL
// (RDR-1); a refusal is a typed error whose message is safe to print.
func FuzzParseResourceMetadata(f *testing.F) {
	for _, s := range []string{
		`{"resource":"https://mcp.example.com/public/mcp","authorization_servers":["https://auth.example.com/tenant1"],"scopes_supported":["mcp:tools"]}`,
		`{"resource":"https://mcp.example.com","authorization_servers":["https://auth.example.com"]}`,
		`{"resource":"https://MCP.example.com:443/public/","authorization_servers":[]}`,
		`{"resource":"https://evil.example.com/public/mcp","authorization_servers":["https://auth.example.com"]}`,
		`{"resource":"https://mcp.example.com/public/mcp","authorization_servers":["javascript:alert(1)"]}`,
		`{"resource":"https://mcp.example.com/public/mcp","authorization_servers":["http://169.254.169.254"]}`,
		`{"resource":"https://mcp.example.com/public/mcp","authorization_servers":["https://u:p@auth.example.com"]}`,
		`{"resource":"https://mcp.example.com/public/mcpx"}`,
		`{"resource":"https://mcp.example.com/public/mcp?x=1"}`,
		`{"resource":"https://mcp.example.com/public/mcp","url":"https://evil.example.com"}`,
		`{"resource":["a"]}`, `[]`, `null`, `<html>`, ``, `{"resource":"\u0000"}`,
	} {
		f.Add([]byte(s), fuzzServerURL)
	}
	f.Add([]byte(`{"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["http://127.0.0.1:9000"]}`), "http://127.0.0.1:8080/mcp")
	f.Fuzz(func(t *testing.T, body []byte, serverURL string) {
		md, err := discovery.ParseResourceMetadata(body, fuzzMetadataURL, serverURL)
		if err != nil {
			var de *discovery.DocumentError
			var me *discovery.ResourceMismatchError
			if !errors.As(err, &de) && !errors.As(err, &me) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if md != nil {
				t.Fatal("metadata with an error")
			}
			if hasControl(err.Error()) {
				t.Fatalf("error message with a control character: %q", err)
			}
			return
		}
		if md.URL != fuzzMetadataURL || md.Resource == "" || !discovery.ResourceMatches(md.Resource, serverURL) {
			t.Fatalf("accepted %+v for %q", md, serverURL)
		}
		r, err1 := urlcheck.HTTPSOrLoopback("resource", serverURL)
		if err1 != nil {
			// ResourceMatches accepted a server URL the client would
			// refuse anyway; the resource must then be on its origin.
			return
		}
		if !strings.EqualFold(r.Scheme, "https") && !urlcheck.IsLoopbackHost(r.Hostname()) {
			t.Fatalf("server %q", serverURL)
		}
		for _, as := range md.AuthorizationServers {
			if _, err := urlcheck.HTTPSOrLoopback("as", as); err != nil {
				t.Fatalf("accepted authorization server %q: %v", as, err)
			}
		}
	})
}

// FuzzParseServerMetadata: authorization server metadata is accepted only
// when its issuer is identical to the one looked up (ASM-3), it has a
// token_endpoint, and every endpoint is an https or loopback http URL
// (RDR-1, URL-1: no javascript: authorization endpoint); a document never
// makes itself "synthesized" (which would assume PKCE).
func FuzzParseServerMetadata(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"https://auth.example.com/tenant1","authorization_endpoint":"https://auth.example.com/authorize","token_endpoint":"https://auth.example.com/token","code_challenge_methods_supported":["S256"]}`,
		`{"issuer":"https://auth.example.com/tenant1/","token_endpoint":"https://auth.example.com/token"}`,
		`{"issuer":"HTTPS://auth.example.com/tenant1","token_endpoint":"https://auth.example.com/token"}`,
		`{"issuer":"https://auth.example.com/tenant1","authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://auth.example.com/token"}`,
		`{"issuer":"https://auth.example.com/tenant1","token_endpoint":"http://auth.example.com/token"}`,
		`{"issuer":"https://auth.example.com/tenant1","token_endpoint":"https://auth.example.com/token","registration_endpoint":"data:,x"}`,
		`{"issuer":"https://auth.example.com/tenant1","token_endpoint":"https://auth.example.com/token","synthesized":true,"url":"x"}`,
		`{"issuer":"https://auth.example.com/tenant1"}`,
		`{"issuer":"https://auth.example.com/tenant1","issuer":"https://evil.example.com"}`,
		`{"ISSUER":"https://auth.example.com/tenant1","token_endpoint":"https://auth.example.com/token"}`,
		`{}`, `[]`, `<!doctype html>`, `{"issuer":1}`,
	} {
		f.Add([]byte(s), fuzzIssuer)
	}
	f.Fuzz(func(t *testing.T, body []byte, issuer string) {
		md, err := discovery.ParseServerMetadata(body, fuzzASMURL, issuer)
		if err != nil {
			var de *discovery.DocumentError
			var ie *discovery.IssuerMismatchError
			if !errors.As(err, &de) && !errors.As(err, &ie) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if hasControl(err.Error()) {
				t.Fatalf("error message with a control character: %q", err)
			}
			return
		}
		if md.Issuer != issuer || md.URL != fuzzASMURL || md.Synthesized || md.TokenEndpoint == "" {
			t.Fatalf("accepted %+v for issuer %q", md, issuer)
		}
		for _, e := range []string{md.AuthorizationEndpoint, md.TokenEndpoint, md.RegistrationEndpoint, md.RevocationEndpoint} {
			if e == "" {
				continue
			}
			if _, err := urlcheck.HTTPSOrLoopback("endpoint", e); err != nil {
				t.Fatalf("accepted endpoint %q: %v", e, err)
			}
		}
		if md.SupportsPKCE() != slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
			t.Fatalf("SupportsPKCE %v for %q", md.SupportsPKCE(), md.CodeChallengeMethodsSupported)
		}
	})
}
