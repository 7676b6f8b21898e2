package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// inspect on the demo: every probe listed, no failure, the scope from the
// challenge with offline_access added (SCP-1, REF-3, REF-4), a refresh
// token expected, and no login.
func TestInspectDemo(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	r := d.run(t, "inspect", d.url)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{
		"POST   401  " + d.url,
		"GET    200  " + d.mcp.ResourceMetadataURL(),
		"GET    200  " + d.as.Issuer() + "/.well-known/oauth-authorization-server",
		"PASS PRM-2", "PASS PRM-3", "PASS PRM-1", "PASS PRM-4", "PASS ASM-3", "PASS PKCE-1", "PASS ISS-1",
		"mcp:read offline_access",
		"SCP-1, REF-3, REF-4",
		"mcpauth login, with no challenge at hand, requests: mcp:read mcp:write offline_access",
		"Refresh token expected: yes",
		"0 failed",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Error("colour codes without a terminal")
	}
	if st := d.as.Stats(); st.AuthorizationRequests != 0 || st.Registrations != 0 {
		t.Errorf("inspect logged in or registered: %+v", st)
	}

	r = d.run(t, "inspect", "--json", d.url)
	var rep inspectReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Scope == nil || !slices.Equal(rep.Scope.Scopes, []string{"mcp:read", "offline_access"}) || !rep.Scope.PromptConsent || rep.Scope.Source != "challenge" {
		t.Errorf("scope = %+v", rep.Scope)
	}
	if rep.RefreshToken == nil || rep.RefreshToken.Expected != "yes" || rep.Registration != "DCR" || rep.Summary[levelFail] != 0 {
		t.Errorf("report = %+v", rep)
	}
	if len(rep.Probes) < 3 || rep.Challenge == nil || rep.Challenge.ResourceMetadata != d.mcp.ResourceMetadataURL() {
		t.Errorf("probes %+v, challenge %+v", rep.Probes, rep.Challenge)
	}
}

// On a terminal, inspect colours its marks.
func TestInspectColour(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	f, out, _ := d.factory(runOpts{})
	f.IOStreams.SetTerminal(false, true, false)
	if code := Execute(testCtx(t, 30e9), f, []string{"--store", "file", "inspect", d.url}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "\x1b[32mPASS\x1b[0m") {
		t.Errorf("no colour on a terminal:\n%s", out)
	}
}

// fakeServer is an MCP server and authorization server on one origin,
// with metadata a test shapes to break one rule at a time.
type fakeServer struct {
	challenge string                           // WWW-Authenticate; "" for none
	prm       func(base string) map[string]any // nil: 404
	as        func(base string) map[string]any // nil: 404
	status    int                              // of the initialize; default 401
}

func (fs *fakeServer) start(t *testing.T) string {
	t.Helper()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON := func(v map[string]any) {
			if v == nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(v)
		}
		switch {
		case r.URL.Path == "/mcp" && r.Method == http.MethodPost:
			if fs.challenge != "" {
				w.Header().Set("WWW-Authenticate", strings.ReplaceAll(fs.challenge, "BASE", base))
			}
			status := fs.status
			if status == 0 {
				status = http.StatusUnauthorized
			}
			w.WriteHeader(status)
		case r.URL.Path == "/.well-known/oauth-protected-resource/mcp" && fs.prm != nil:
			writeJSON(fs.prm(base))
		case r.URL.Path == "/.well-known/oauth-authorization-server" && fs.as != nil:
			writeJSON(fs.as(base))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	return base + "/mcp"
}

func goodPRM(base string) map[string]any {
	return map[string]any{"resource": base + "/mcp", "authorization_servers": []string{base}, "scopes_supported": []string{"mcp:read"}}
}

func goodAS(base string) map[string]any {
	return map[string]any{
		"issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
		"registration_endpoint": base + "/register", "code_challenge_methods_supported": []string{"S256"},
		"authorization_response_iss_parameter_supported": true, "client_id_metadata_document_supported": true,
		"scopes_supported": []string{"mcp:read", "offline_access"}, "grant_types_supported": []string{"authorization_code", "refresh_token"},
		"revocation_endpoint": base + "/revoke",
	}
}

func with(f func(string) map[string]any, change func(base string, m map[string]any)) func(string) map[string]any {
	return func(base string) map[string]any {
		m := f(base)
		change(base, m)
		return m
	}
}

// Each broken setup is reported with the rule it breaks.
func TestInspectFindings(t *testing.T) {
	challenge := `Bearer resource_metadata="BASE/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`
	tests := []struct {
		name  string
		fs    fakeServer
		want  []string // "LEVEL ID"
		fails bool
	}{
		{"healthy", fakeServer{challenge: challenge, prm: goodPRM, as: goodAS}, []string{"PASS PRM-2", "PASS PKCE-1", "PASS REG-2"}, false},
		{"SRV-2207 offline_access in PRM scopes", fakeServer{challenge: challenge, prm: with(goodPRM, func(_ string, m map[string]any) {
			m["scopes_supported"] = []string{"mcp:read", "offline_access"}
		}), as: goodAS}, []string{"WARN SRV-2207"}, false},
		{"SRV-2207 offline_access in the challenge", fakeServer{challenge: `Bearer resource_metadata="BASE/.well-known/oauth-protected-resource/mcp", scope="mcp:read offline_access"`, prm: goodPRM, as: goodAS}, []string{"WARN SRV-2207"}, false},
		{"PKCE-1 no code_challenge_methods_supported", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			delete(m, "code_challenge_methods_supported")
		})}, []string{"FAIL PKCE-1"}, true},
		{"PKCE-1 plain only", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			m["code_challenge_methods_supported"] = []string{"plain"}
		})}, []string{"FAIL PKCE-1"}, true},
		{"ASM-3 issuer mismatch", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(base string, m map[string]any) {
			m["issuer"] = base + "/other"
		})}, []string{"FAIL ASM-3"}, true},
		{"ISS-1 no iss support", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			delete(m, "authorization_response_iss_parameter_supported")
		})}, []string{"WARN ISS-1"}, false},
		{"REG-2 DCR only", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			delete(m, "client_id_metadata_document_supported")
		})}, []string{"NOTE REG-2"}, false},
		{"REG-1 no registration at all", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			delete(m, "client_id_metadata_document_supported")
			delete(m, "registration_endpoint")
		})}, []string{"FAIL REG-1"}, true},
		{"PRM-4 resource mismatch", fakeServer{challenge: challenge, prm: with(goodPRM, func(base string, m map[string]any) {
			m["resource"] = base + "/other"
		}), as: goodAS}, []string{"FAIL PRM-4"}, true},
		{"RDR-1 http endpoint off loopback", fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, func(_ string, m map[string]any) {
			m["authorization_endpoint"] = "http://auth.example.com/authorize"
		})}, []string{"FAIL RDR-1"}, true},
		{"RDR-1 http authorization server off loopback", fakeServer{challenge: challenge, prm: with(goodPRM, func(_ string, m map[string]any) {
			m["authorization_servers"] = []string{"http://auth.example.com"}
		}), as: goodAS}, []string{"FAIL RDR-1"}, true},
		{"PRM-2 401 without challenge", fakeServer{prm: goodPRM, as: goodAS}, []string{"WARN PRM-2", "PASS PRM-1"}, false},
		{"PRM-3 no resource_metadata in the challenge", fakeServer{challenge: `Bearer scope="mcp:read"`, prm: goodPRM, as: goodAS}, []string{"NOTE PRM-3", "PASS PRM-1"}, false},
		{"PRM-5 no metadata at all", fakeServer{}, []string{"WARN PRM-1", "NOTE PRM-5"}, false},
		{"AS-1 several authorization servers", fakeServer{challenge: challenge, prm: with(goodPRM, func(base string, m map[string]any) {
			m["authorization_servers"] = []string{base, base + "/tenant"}
		}), as: goodAS}, []string{"NOTE AS-1", "FAIL ASM-1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.fs.start(t)
			d := &demo{home: privateDir(t)}
			r := d.run(t, "inspect", u)
			if (r.code != 0) != tt.fails {
				t.Errorf("exit %d, want failure %v", r.code, tt.fails)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if !tt.fails && strings.Contains(r.out, "FAIL") {
				t.Error("unexpected FAIL")
			}
		})
	}
}

// The refresh token expectation follows the metadata.
func TestInspectRefreshExpectation(t *testing.T) {
	challenge := `Bearer resource_metadata="BASE/.well-known/oauth-protected-resource/mcp"`
	for _, tt := range []struct {
		change func(base string, m map[string]any)
		want   string
	}{
		{func(string, map[string]any) {}, "yes"},
		{func(_ string, m map[string]any) { delete(m, "grant_types_supported") }, "likely"},
		{func(_ string, m map[string]any) { m["scopes_supported"] = []string{"mcp:read"} }, "maybe"},
		{func(_ string, m map[string]any) {
			m["scopes_supported"] = []string{"mcp:read"}
			m["grant_types_supported"] = []string{"authorization_code"}
		}, "unlikely"},
	} {
		u := (&fakeServer{challenge: challenge, prm: goodPRM, as: with(goodAS, tt.change)}).start(t)
		d := &demo{home: privateDir(t)}
		r := d.run(t, "inspect", "--json", u)
		var rep inspectReport
		if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.RefreshToken == nil || rep.RefreshToken.Expected != tt.want {
			t.Errorf("refresh expectation = %+v, want %s", rep.RefreshToken, tt.want)
		}
	}
}

// A configured pre-registered client is what inspect reports (REG-2).
func TestInspectPreRegistered(t *testing.T) {
	u := (&fakeServer{challenge: `Bearer scope="mcp:read"`, prm: goodPRM, as: goodAS}).start(t)
	d := &demo{home: privateDir(t)}
	issuer := strings.TrimSuffix(u, "/mcp")
	writeFile(t, d.home, "config.json", fmt.Sprintf(`{"clients": {%q: {"client_id": "abc"}}}`, issuer))
	r := d.run(t, "inspect", u)
	if !strings.Contains(r.out, "PASS REG-2") || !strings.Contains(r.out, "Registration: pre-registered") {
		t.Errorf("pre-registered client not reported")
	}
	// A pre-registered client that declares no grant types is never
	// given offline_access (REF-3).
	if !strings.Contains(r.out, "Refresh token expected: no") {
		t.Error("refresh expectation for a client without declared grants")
	}
}
