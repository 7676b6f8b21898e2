package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// registerConfidential registers a confidential native client at the demo
// authorization server, as an operator would by hand.
func registerConfidential(t *testing.T, d *demo) *authserver.Registration {
	t.Helper()
	reg, err := d.as.RegisterClient(authserver.ClientMetadata{
		ClientName: "hand-registered", RedirectURIs: []string{"http://127.0.0.1/callback"},
		ApplicationType: "native", TokenEndpointAuthMethod: "client_secret_basic",
		GrantTypes: []string{"authorization_code", "refresh_token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientSecret == "" {
		t.Fatal("no secret issued")
	}
	return reg
}

// A pre-registered client from the configuration file, by issuer (REG-5),
// with its secret from the environment: no registration happens, status
// says pre-registered, and the secret is never shown.
func TestConfigPreRegistered(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	reg := registerConfidential(t, d)
	writeFile(t, d.home, "config.json", fmt.Sprintf(`{
  "clients": {%q: {
    "client_id": %q, "client_secret_env": "DEMO_SECRET",
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code", "refresh_token"]
  }}
}`, d.as.Issuer(), reg.ClientID))
	env := map[string]string{"DEMO_SECRET": reg.ClientSecret}
	r := d.runWith(t, runOpts{env: env}, "-v", "login", d.url)
	if r.code != 0 {
		t.Fatalf("login exit %d", r.code)
	}
	if d.as.Stats().Registrations != 1 { // the one made by hand
		t.Errorf("registrations = %d", d.as.Stats().Registrations)
	}
	r2 := d.runWith(t, runOpts{env: env}, "status", d.url)
	if !strings.Contains(r2.out, "Registration:         pre-registered (client id "+reg.ClientID+")") {
		t.Errorf("status: %q", r2.out)
	}
	secrets := append(d.secrets(t), reg.ClientSecret)
	assertNoSecrets(t, "login -v", r.out+r.err, secrets)
	assertNoSecrets(t, "status", r2.out+r2.err, secrets)
	if !strings.Contains(r.err, "Authorization: Basic [REDACTED]") {
		t.Error("the trace does not show the redacted client authentication")
	}

	// Without the environment variable, the configuration is refused.
	r = d.run(t, "login", d.url)
	if r.code != ExitError || !strings.Contains(r.err, "$DEMO_SECRET") {
		t.Errorf("missing secret env: exit %d %q", r.code, r.err)
	}
}

// --client-id without --issuer takes the issuer the server names; the
// secret comes from MCPAUTH_CLIENT_SECRET.
func TestClientIDFlags(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	reg := registerConfidential(t, d)
	r := d.runWith(t, runOpts{env: map[string]string{envClientSecret: reg.ClientSecret}}, "--client-id", reg.ClientID, "login", d.url)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	recs := d.records(t)
	if len(recs) != 1 || recs[0].Client == nil || recs[0].Client.ID != reg.ClientID || string(recs[0].Client.Kind) != "pre-registered" {
		t.Errorf("stored client = %+v", recs[0].Client)
	}
	// A --client-id for another issuer leaves this one to DCR.
	d2 := startDemo(t, authserver.Config{AutoApprove: true})
	r = d2.run(t, "--client-id", "x", "--issuer", "http://127.0.0.1:1", "login", d2.url)
	if r.code != 0 || !strings.Contains(r.err, "(DCR)") {
		t.Errorf("foreign --issuer: exit %d %q", r.code, r.err)
	}
}

// Configuration mistakes are reported, not ignored.
func TestConfigErrors(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	writeFile(t, d.home, "config.json", `{"clientz": {}}`)
	if r := d.run(t, "status"); r.code != ExitError || !strings.Contains(r.err, "clientz") {
		t.Errorf("unknown field: exit %d %q", r.code, r.err)
	}
	if r := d.run(t, "--config", filepath.Join(d.home, "missing.json"), "status"); r.code != ExitError {
		t.Errorf("missing --config: exit %d", r.code)
	}
	other := t.TempDir()
	p := writeFile(t, other, "c.json", `{"store": "file"}`)
	if r := d.runWith(t, runOpts{env: map[string]string{envConfig: p}}, "status", "--json"); r.code != 0 {
		t.Errorf("MCPAUTH_CONFIG: exit %d", r.code)
	}
	// A secret in a file others can read draws a warning.
	p = writeFile(t, other, "open.json", `{"clients": {"http://127.0.0.1:1": {"client_id": "a", "client_secret": "s3cret"}}}`)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	r := d.run(t, "--config", p, "status", "--json")
	if !strings.Contains(r.err, "chmod 600") || strings.Contains(r.err, "s3cret") {
		t.Errorf("world-readable secret: %q", r.err)
	}
}

// The store settings: --store-dir, then the configuration file's
// store_dir, then MCPAUTH_HOME; MCPAUTH_STORE picks the backend.
func TestStoreSettings(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	dir := privateDir(t)
	r := d.runWith(t, runOpts{}, "--store-dir", dir, "login", d.url)
	if r.code != 0 {
		t.Fatal("login failed")
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		t.Errorf("--store-dir not used: %v", err)
	}
	if len(d.records(t)) != 0 {
		t.Error("credentials went to MCPAUTH_HOME too")
	}
	writeFile(t, d.home, "config.json", fmt.Sprintf(`{"store_dir": %q}`, dir))
	if r := d.run(t, "status", d.url); r.code != 0 {
		t.Errorf("store_dir from the configuration file not used: exit %d", r.code)
	}
	f, _, _ := d.factory(runOpts{env: map[string]string{envStore: "keyring"}})
	s, err := f.settings()
	if err != nil || s.backend != "keyring" {
		t.Errorf("MCPAUTH_STORE: %v %v", s, err)
	}
	f.opts.store = "file"
	if s, _ = f.settings(); s.backend != "file" {
		t.Errorf("--store does not win over MCPAUTH_STORE: %v", s.backend)
	}
}

func TestNormalizeServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"mcp.example.com/mcp":          "https://mcp.example.com/mcp",
		"HTTPS://MCP.Example.COM/Mcp":  "https://mcp.example.com/Mcp",
		"http://127.0.0.1:8080/mcp/":   "http://127.0.0.1:8080/mcp/",
		"  https://a.example/mcp?x=1 ": "https://a.example/mcp?x=1",
	} {
		if got, err := normalizeServerURL(in); err != nil || got != want {
			t.Errorf("normalizeServerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "http://example.com/mcp", "javascript:alert(1)", "https://user:pw@example.com/", "https://example.com/#frag"} {
		if _, err := normalizeServerURL(bad); err == nil {
			t.Errorf("normalizeServerURL(%q) accepted", bad)
		}
	}
}
