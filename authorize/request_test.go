package authorize_test

import (
	"net/url"
	"testing"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// TestRequestURL_PKCE1_RES1: the authorization URL carries S256 PKCE, the
// state, the resource byte for byte, the scope, prompt, and keeps the
// endpoint's own query.
func TestRequestURL_PKCE1_RES1(t *testing.T) {
	r := authorize.New()
	r.Endpoint = "https://as.example/authorize?tenant=t1"
	r.ClientID = "client 1"
	r.RedirectURI = "http://127.0.0.1:5555/callback"
	r.Scopes = []string{"mcp:read", "offline_access"}
	r.Resource = "https://MCP.example.com/mcp/" // sent as given, never normalized
	r.Prompt = "consent"
	raw, err := r.URL()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	want := map[string]string{
		"tenant":                "t1",
		"response_type":         "code",
		"client_id":             "client 1",
		"redirect_uri":          r.RedirectURI,
		"scope":                 "mcp:read offline_access",
		"state":                 r.State,
		"code_challenge":        oauthtest.S256(r.Verifier),
		"code_challenge_method": "S256",
		"resource":              "https://MCP.example.com/mcp/",
		"prompt":                "consent",
	}
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("unexpected parameters in %s", raw)
	}
	if u.Scheme != "https" || u.Host != "as.example" || u.Path != "/authorize" {
		t.Errorf("endpoint changed: %s", raw)
	}
	if q.Has("code_verifier") {
		t.Error("the verifier itself is in the URL")
	}
}

// TestRequestURL_SCP1_OmitsEmpty: no scope, resource or prompt parameter
// when none is set.
func TestRequestURL_SCP1_OmitsEmpty(t *testing.T) {
	r := authorize.New()
	r.Endpoint, r.ClientID = "http://127.0.0.1:9/authorize", "c"
	raw, err := r.URL()
	if err != nil {
		t.Fatal(err)
	}
	q, _ := authorize.Values(raw)
	for _, k := range []string{"scope", "resource", "prompt", "redirect_uri"} {
		if q.Has(k) {
			t.Errorf("%s present: %s", k, raw)
		}
	}
}

// TestNew_STATE1_PKCE1_Fresh: every request has its own state and
// verifier, of RFC 7636 length.
func TestNew_STATE1_PKCE1_Fresh(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		r := authorize.New()
		if len(r.Verifier) < 43 || len(r.Verifier) > 128 || len(r.State) < 22 {
			t.Fatalf("verifier %d chars, state %d chars", len(r.Verifier), len(r.State))
		}
		if seen[r.State] || seen[r.Verifier] {
			t.Fatal("repeated state or verifier")
		}
		seen[r.State], seen[r.Verifier] = true, true
	}
}

// TestRequestURL_URL1_RDR1_RefusesSchemes: nothing but https and loopback
// http becomes an authorization URL.
func TestRequestURL_URL1_RDR1_RefusesSchemes(t *testing.T) {
	for _, e := range []string{
		"javascript:alert(document.cookie)",
		"JavaScript:alert(1)",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"file:///etc/passwd",
		"vbscript:msgbox(1)",
		"http://as.example/authorize",
		"ms-settings:",
		"/authorize",
		"https://user:pw@as.example/authorize",
		"https://as.example/authorize#frag",
		"",
	} {
		r := authorize.New()
		r.Endpoint, r.ClientID = e, "c"
		if u, err := r.URL(); err == nil {
			t.Errorf("endpoint %q accepted as %q", e, u)
		}
	}
	for _, e := range []string{"https://as.example/authorize", "http://127.0.0.1:8080/authorize", "http://localhost/authorize", "http://[::1]:1/a"} {
		r := authorize.New()
		r.Endpoint, r.ClientID = e, "c"
		if _, err := r.URL(); err != nil {
			t.Errorf("endpoint %q refused: %v", e, err)
		}
	}
}
