package mcpauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// TestFlow_PRM1_HappyPath: the whole flow against a well-behaved pair of
// servers, step by step.
func TestFlow_PRM1_HappyPath(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{ChallengeScope: "mcp:tools"})
	tr := e.transport(nil)
	if got := e.post(tr, `{"jsonrpc":"2.0"}`); got != `{"jsonrpc":"2.0"}` {
		t.Errorf("body %q", got)
	}
	if got, want := e.res.Paths(), []string{"/mcp", "/.well-known/oauth-protected-resource/mcp", "/mcp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MCP server requests %q, want %q", got, want)
	}
	if got, want := e.as.Paths(), []string{"/.well-known/oauth-authorization-server", "/register", "/authorize", "/token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("authorization server requests %q, want %q", got, want)
	}
	q := e.authQuery(0)
	if fxGet(q, "scope") != "mcp:tools" || fxGet(q, "code_challenge_method") != "S256" || fxGet(q, "resource") != e.res.URL || fxGet(q, "prompt") != "" {
		t.Errorf("authorization request %v", q)
	}
	if len(e.browser.Opened()) != 1 {
		t.Errorf("browser opened %d times", len(e.browser.Opened()))
	}
}

// TestFlow_PRM3_ChallengeNamesMetadataURL: the URL of the challenge's
// resource_metadata is used first, and the well-known URIs are not tried.
func TestFlow_PRM3_ChallengeNamesMetadataURL(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{
		PRMPaths: []string{"/meta/prm.json"}, ChallengeResourceMetadata: true})
	e.post(e.transport(nil), "x")
	if n := e.res.Count("/meta/prm.json"); n != 1 {
		t.Errorf("named metadata fetched %d times", n)
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		if n := e.res.Count(p); n != 0 {
			t.Errorf("%s fetched %d times", p, n)
		}
	}
}

// TestFlow_PRM3_RootFallback: no path-inserted document, found at the
// root.
func TestFlow_PRM3_RootFallback(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{PRMPaths: []string{"/.well-known/oauth-protected-resource"}})
	e.post(e.transport(nil), "x")
	if got, want := e.res.Paths()[1:3], []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}; !reflect.DeepEqual(got, want) {
		t.Errorf("probes %q, want %q", got, want)
	}
}

// TestFlow_PRM2_UnquotedResourceMetadataFallsBack: a server that sends
// resource_metadata unquoted (a malformed header: ':' ends the token)
// must not make the client fetch the truncated value "http"; discovery
// falls back to the well-known URIs.
func TestFlow_PRM2_UnquotedResourceMetadataFallsBack(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	prm := e.res.MetadataURL()
	e.res.Configure(func(c *oauthtest.ResourceConfig) { c.Challenge = "Bearer resource_metadata=" + prm })
	e.post(e.transport(nil), "x")
}

// TestFlow_PRM3_NoFallbackOn5xx: a 5xx from the metadata stops the flow:
// the root URI is not tried, nothing is authorized.
func TestFlow_PRM3_NoFallbackOn5xx(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{PRMPaths: []string{"/.well-known/oauth-protected-resource"}})
	e.res.Handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	err := e.fail(e.transport(nil))
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v", err)
	}
	if n := e.res.Count("/.well-known/oauth-protected-resource"); n != 0 {
		t.Errorf("root metadata tried after a 5xx")
	}
	if n := e.as.Total(); n != 0 {
		t.Errorf("%d requests to the authorization server", n)
	}
}

// TestFlow_PRM4_ResourceMismatch: metadata for another resource aborts
// before any authorization request, with *mcpauth.ResourceMismatchError.
func TestFlow_PRM4_ResourceMismatch(t *testing.T) {
	for name, resource := range map[string]func(*oauthtest.Resource) string{
		"other host":   func(r *oauthtest.Resource) string { return "https://evil.example/mcp" },
		"other path":   func(r *oauthtest.Resource) string { return r.Server.URL + "/other" },
		"sibling path": func(r *oauthtest.Resource) string { return r.Server.URL + "/mc" },
		"child path":   func(r *oauthtest.Resource) string { return r.URL + "/sub" },
		"other port":   func(r *oauthtest.Resource) string { return "http://127.0.0.1:1/mcp" },
	} {
		t.Run(name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
			want := resource(e.res)
			e.res.Configure(func(c *oauthtest.ResourceConfig) { c.Resource = want })
			err := e.fail(e.transport(nil))
			var rm *mcpauth.ResourceMismatchError
			if !errors.As(err, &rm) || rm.Resource != want || rm.ServerURL != e.res.URL {
				t.Fatalf("err = %v, want *mcpauth.ResourceMismatchError for %s", err, want)
			}
			if n := e.as.Total(); n != 0 {
				t.Errorf("%d requests to the authorization server: %q", n, e.as.Paths())
			}
			if n := len(e.browser.Opened()); n != 0 {
				t.Errorf("browser opened %d times", n)
			}
		})
	}
}

// TestFlow_PRM5_NoPRM_OriginMetadata: a 2025-03-26 server without
// protected resource metadata is its own authorization server: the
// origin's metadata is used.
func TestFlow_PRM5_NoPRM_OriginMetadata(t *testing.T) {
	srv := oauthtest.NewServer(t)
	as := oauthtest.MountAS(srv, oauthtest.ASConfig{})
	res := oauthtest.MountResource(srv, oauthtest.ResourceConfig{NoPRM: true, AS: []*oauthtest.AS{as}})
	e := fxEnvOf(t, as, res)
	e.post(e.transport(nil), "x")
	want := []string{
		"/mcp",
		"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource",
		"/.well-known/oauth-authorization-server",
		"/register", "/authorize", "/token",
		"/mcp",
	}
	if got := srv.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	if r := fxGet(e.authQuery(0), "resource"); r != res.URL {
		t.Errorf("resource %q, want the server URL %q", r, res.URL)
	}
}

// TestFlow_PRM5_NoMetadataAtAll_DefaultEndpoints: neither protected
// resource nor authorization server metadata: /authorize, /token and
// /register at the server's origin.
func TestFlow_PRM5_NoMetadataAtAll_DefaultEndpoints(t *testing.T) {
	srv := oauthtest.NewServer(t)
	as := oauthtest.MountAS(srv, oauthtest.ASConfig{NoMetadata: true})
	res := oauthtest.MountResource(srv, oauthtest.ResourceConfig{NoPRM: true, AS: []*oauthtest.AS{as}, Path: "/v1/mcp"})
	e := fxEnvOf(t, as, res)
	e.post(e.transport(nil), "x")
	want := []string{
		"/v1/mcp",
		"/.well-known/oauth-protected-resource/v1/mcp", "/.well-known/oauth-protected-resource",
		"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
		"/register", "/authorize", "/token",
		"/v1/mcp",
	}
	if got := srv.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	tokenForm := as.TokenRequests()[0].Form()
	if r := fxGet(e.authQuery(0), "resource"); r != res.URL || tokenForm.Get("resource") != res.URL {
		t.Errorf("resource %q / %q, want %q", r, tokenForm.Get("resource"), res.URL)
	}
}

// TestFlow_ASM3_MetadataIssuerMismatch: metadata whose issuer has a
// trailing slash is not used; its endpoints are never called.
func TestFlow_ASM3_MetadataIssuerMismatch(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	e.as.Configure(func(c *oauthtest.ASConfig) {
		c.MetadataPaths = []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}
		c.Metadata = func(doc map[string]any) { doc["issuer"] = e.as.Issuer + "/" }
	})
	err := e.fail(e.transport(nil))
	var im *mcpauth.MetadataIssuerMismatchError
	if !errors.As(err, &im) || im.Issuer != e.as.Issuer+"/" || im.Want != e.as.Issuer {
		t.Fatalf("err = %v, want *mcpauth.MetadataIssuerMismatchError", err)
	}
	for _, p := range []string{e.as.AuthorizePath, e.as.TokenPath, e.as.RegisterPath} {
		if n := e.as.Count(p); n != 0 {
			t.Errorf("%s called %d times", p, n)
		}
	}
	if n := len(e.browser.Opened()); n != 0 {
		t.Errorf("browser opened %d times", n)
	}
}

// TestFlow_ASM2_IssuerWithPath: an issuer with a path found through OpenID
// Connect path-appended discovery, after the two path-inserted URLs.
func TestFlow_ASM2_IssuerWithPath(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{IssuerPath: "/realms/mcp", MetadataPaths: []string{"/realms/mcp/.well-known/openid-configuration"}}, oauthtest.ResourceConfig{})
	e.post(e.transport(nil), "x")
	want := []string{
		"/.well-known/oauth-authorization-server/realms/mcp",
		"/.well-known/openid-configuration/realms/mcp",
		"/realms/mcp/.well-known/openid-configuration",
		"/realms/mcp/register", "/realms/mcp/authorize", "/realms/mcp/token",
	}
	if got := e.as.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
}

// TestFlow_PKCE1_Unsupported: metadata without S256 in
// code_challenge_methods_supported stops the flow before registration and
// authorization.
func TestFlow_PKCE1_Unsupported(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"absent":     func(doc map[string]any) { delete(doc, "code_challenge_methods_supported") },
		"plain only": func(doc map[string]any) { doc["code_challenge_methods_supported"] = []string{"plain"} },
		"empty":      func(doc map[string]any) { doc["code_challenge_methods_supported"] = []string{} },
	} {
		t.Run(name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{Metadata: edit}, oauthtest.ResourceConfig{})
			err := e.fail(e.transport(nil))
			var pe *mcpauth.PKCEUnsupportedError
			if !errors.As(err, &pe) || pe.Issuer != e.as.Issuer || pe.MetadataURL != e.as.URL+"/.well-known/oauth-authorization-server" {
				t.Fatalf("err = %v, want *mcpauth.PKCEUnsupportedError", err)
			}
			if got := e.as.Paths(); !reflect.DeepEqual(got, []string{"/.well-known/oauth-authorization-server"}) {
				t.Errorf("requests %q: nothing but the metadata may be fetched", got)
			}
			if n := len(e.browser.Opened()); n != 0 {
				t.Errorf("browser opened %d times", n)
			}
		})
	}
}

// TestFlow_URL1_RDR1_HostileAuthorizationEndpoint: javascript:, data:,
// file: and remote plain-http authorization endpoints are refused before
// anything is opened or registered.
func TestFlow_URL1_RDR1_HostileAuthorizationEndpoint(t *testing.T) {
	for _, endpoint := range []string{
		"javascript:alert(document.cookie)",
		"data:text/html,<script>alert(1)</script>",
		"file:///etc/passwd",
		"http://as.example/authorize",
	} {
		t.Run(endpoint, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{Metadata: func(doc map[string]any) { doc["authorization_endpoint"] = endpoint }}, oauthtest.ResourceConfig{})
			err := e.fail(e.transport(nil))
			if !strings.Contains(err.Error(), "authorization_endpoint") {
				t.Errorf("err = %v", err)
			}
			if n := len(e.browser.Opened()); n != 0 {
				t.Errorf("browser opened %d times: %q", n, e.browser.Opened())
			}
			if n := e.as.Count(e.as.RegisterPath) + e.as.Count(e.as.TokenPath); n != 0 {
				t.Errorf("%d registration or token requests", n)
			}
		})
	}
}

// TestFlow_STATE1_ISS1: the redirect's state and iss are checked through
// the transport; refused responses reach neither the token endpoint nor
// the person (error_description hidden in the error and on the page).
func TestFlow_STATE1_ISS1(t *testing.T) {
	const desc = "CALL-555-0100-TO-UNLOCK"
	tests := []struct {
		name  string
		noIss bool
		edit  func(as *oauthtest.AS) func(url.Values)
		check func(t *testing.T, err error)
	}{
		{
			name: "ISS-1 trailing slash variant with an error",
			edit: func(as *oauthtest.AS) func(url.Values) {
				return func(q url.Values) {
					q.Set("iss", as.Issuer+"/")
					q.Del("code")
					q.Set("error", "access_denied")
					q.Set("error_description", desc)
				}
			},
			check: func(t *testing.T, err error) {
				var im *mcpauth.IssMismatchError
				if !errors.As(err, &im) || im.Missing {
					t.Errorf("err = %v, want *mcpauth.IssMismatchError", err)
				}
				var ae *mcpauth.AuthorizationError
				if errors.As(err, &ae) {
					t.Errorf("the untrusted error was acted on: %v", ae)
				}
			},
		},
		{
			name: "ISS-1 case variant",
			edit: func(as *oauthtest.AS) func(url.Values) {
				return func(q url.Values) { q.Set("iss", strings.Replace(as.Issuer, "http://", "HTTP://", 1)) }
			},
			check: func(t *testing.T, err error) {
				var im *mcpauth.IssMismatchError
				if !errors.As(err, &im) {
					t.Errorf("err = %v, want *mcpauth.IssMismatchError", err)
				}
			},
		},
		{
			name: "ISS-1 missing when advertised",
			edit: func(*oauthtest.AS) func(url.Values) { return func(q url.Values) { q.Del("iss") } },
			check: func(t *testing.T, err error) {
				var im *mcpauth.IssMismatchError
				if !errors.As(err, &im) || !im.Missing {
					t.Errorf("err = %v, want *mcpauth.IssMismatchError{Missing}", err)
				}
			},
		},
		{
			name: "STATE-1 wrong state",
			edit: func(*oauthtest.AS) func(url.Values) { return func(q url.Values) { q.Set("state", "forged") } },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, mcpauth.ErrStateMismatch) {
					t.Errorf("err = %v, want ErrStateMismatch", err)
				}
			},
		},
		{
			name: "STATE-1 missing state",
			edit: func(*oauthtest.AS) func(url.Values) { return func(q url.Values) { q.Del("state") } },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, mcpauth.ErrStateMismatch) {
					t.Errorf("err = %v, want ErrStateMismatch", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
			e.as.Configure(func(c *oauthtest.ASConfig) { c.AuthorizeResponse = tt.edit(e.as) })
			err := e.fail(e.transport(nil))
			tt.check(t, err)
			if strings.Contains(err.Error(), desc) || strings.Contains(err.Error(), oauthtest.CodeMarker) {
				t.Errorf("error shows the refused response: %v", err)
			}
			e.browser.Wait()
			for _, p := range e.browser.Pages() {
				if strings.Contains(p.Body, desc) || p.Status != http.StatusBadRequest {
					t.Errorf("page %d shows the refused response: %s", p.Status, p.Body)
				}
			}
			if n := len(e.as.TokenRequests()); n != 0 {
				t.Errorf("%d token requests after a refused redirect", n)
			}
			// The response was refused: the server was asked once, the
			// flow did not loop.
			if n := len(e.as.Authorizations()); n != 1 {
				t.Errorf("%d authorization requests", n)
			}
		})
	}
}

// TestFlow_ISS1_AbsentNotAdvertised: a server that neither advertises nor
// sends iss is accepted.
func TestFlow_ISS1_AbsentNotAdvertised(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{NoIss: true}, oauthtest.ResourceConfig{})
	e.post(e.transport(nil), "x")
}

// TestFlow_RES1_ResourceByteForByte: the resource parameter of the
// authorization, token and refresh requests is the protected resource
// metadata's resource exactly: no slash added or removed, no path
// completed.
func TestFlow_RES1_ResourceByteForByte(t *testing.T) {
	for name, resource := range map[string]func(r *oauthtest.Resource) string{
		"same as server URL":    func(r *oauthtest.Resource) string { return r.URL },
		"with a trailing slash": func(r *oauthtest.Resource) string { return r.URL + "/" },
		"origin only":           func(r *oauthtest.Resource) string { return r.Server.URL },
		"origin with slash":     func(r *oauthtest.Resource) string { return r.Server.URL + "/" },
	} {
		t.Run(name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{RefreshTokens: true, ExpiresIn: 3600}, oauthtest.ResourceConfig{})
			want := resource(e.res)
			e.res.Configure(func(c *oauthtest.ResourceConfig) { c.Resource = want })
			tr := e.transport(nil)
			e.post(tr, "x")
			e.clock.Advance(2 * 3600e9)
			e.post(tr, "y")
			if got := fxGet(e.authQuery(0), "resource"); got != want {
				t.Errorf("authorization resource %q, want %q", got, want)
			}
			reqs := e.as.TokenRequests()
			if len(reqs) != 2 {
				t.Fatalf("%d token requests, want code exchange and refresh", len(reqs))
			}
			for _, r := range reqs {
				f := r.Form()
				if got := f["resource"]; len(got) != 1 || got[0] != want {
					t.Errorf("%s request resource %q, want %q", f.Get("grant_type"), got, want)
				}
			}
		})
	}
}

// TestFlow_REF3_REF4_OfflineAccess: offline_access (with prompt=consent)
// is requested only when the authorization server lists it and the
// client holds the refresh_token grant.
func TestFlow_REF3_REF4_OfflineAccess(t *testing.T) {
	withOffline := []string{"openid", "mcp:read", "offline_access"}
	tests := []struct {
		name        string
		asScopes    []string
		mod         func(*mcpauth.Config, *oauthtest.AS)
		wantScope   string
		wantConsent bool
		wantGrants  []any // DCR grant_types; nil: no registration
	}{
		{
			name:     "AS lists offline_access",
			asScopes: withOffline, wantScope: "mcp:read offline_access", wantConsent: true,
			wantGrants: []any{"authorization_code", "refresh_token"},
		},
		{
			name:     "AS does not list offline_access",
			asScopes: []string{"openid", "mcp:read"}, wantScope: "mcp:read",
			wantGrants: []any{"authorization_code", "refresh_token"},
		},
		{
			name:     "AS lists no scopes",
			asScopes: nil, wantScope: "mcp:read",
			wantGrants: []any{"authorization_code", "refresh_token"},
		},
		{
			name:     "DisableRefreshTokens",
			asScopes: withOffline, wantScope: "mcp:read",
			mod:        func(c *mcpauth.Config, _ *oauthtest.AS) { c.DisableRefreshTokens = true },
			wantGrants: []any{"authorization_code"},
		},
		{
			name:     "DisableRefreshTokens with a scope configured with offline_access",
			asScopes: withOffline, wantScope: "mcp:read",
			mod: func(c *mcpauth.Config, _ *oauthtest.AS) {
				c.DisableRefreshTokens = true
				c.Client.Scope = "offline_access mcp:read"
			},
			wantGrants: []any{"authorization_code"},
		},
		{
			name:     "pre-registered client without declared grant types",
			asScopes: withOffline, wantScope: "mcp:read",
			mod: func(c *mcpauth.Config, as *oauthtest.AS) {
				c.PreRegistered = map[string]mcpauth.PreRegisteredClient{as.Issuer: {ClientID: "pre"}}
			},
		},
		{
			name:     "pre-registered client declaring refresh_token",
			asScopes: withOffline, wantScope: "mcp:read offline_access", wantConsent: true,
			mod: func(c *mcpauth.Config, as *oauthtest.AS) {
				c.PreRegistered = map[string]mcpauth.PreRegisteredClient{as.Issuer: {ClientID: "pre", GrantTypes: []string{"authorization_code", "refresh_token"}}}
			},
		},
		{
			name:     "pre-registered client declaring refresh_token, DisableRefreshTokens",
			asScopes: withOffline, wantScope: "mcp:read",
			mod: func(c *mcpauth.Config, as *oauthtest.AS) {
				c.DisableRefreshTokens = true
				c.PreRegistered = map[string]mcpauth.PreRegisteredClient{as.Issuer: {ClientID: "pre", GrantTypes: []string{"authorization_code", "refresh_token"}}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{ScopesSupported: tt.asScopes, RefreshTokens: true}, oauthtest.ResourceConfig{ScopesSupported: []string{"mcp:read"}})
			tr := e.transport(func(c *mcpauth.Config) {
				if tt.mod != nil {
					tt.mod(c, e.as)
				}
			})
			e.post(tr, "x")
			q := e.authQuery(0)
			if got := fxGet(q, "scope"); got != tt.wantScope {
				t.Errorf("scope %q, want %q", got, tt.wantScope)
			}
			if got := fxGet(q, "prompt"); (got == "consent") != tt.wantConsent || (got != "" && got != "consent") {
				t.Errorf("prompt %q, want consent %v", got, tt.wantConsent)
			}
			regs := e.as.Registrations()
			if tt.wantGrants == nil {
				if len(regs) != 0 {
					t.Errorf("%d registrations for a pre-registered client", len(regs))
				}
				return
			}
			var body map[string]any
			if len(regs) != 1 || regs[0].JSON(&body) != nil {
				t.Fatalf("%d registrations", len(regs))
			}
			if !reflect.DeepEqual(body["grant_types"], tt.wantGrants) {
				t.Errorf("registered grant_types %v, want %v", body["grant_types"], tt.wantGrants)
			}
			if s, _ := body["scope"].(string); strings.Contains(s, "offline_access") && !tt.wantConsent {
				t.Errorf("registered scope %q", s)
			}
		})
	}
}

// TestFlow_REF3_DisableRefreshTokens_ServerAddsGrant: a server that
// registers the client with refresh_token although it was not asked to
// still gets no offline_access request when refresh tokens are disabled.
func TestFlow_REF3_DisableRefreshTokens_ServerAddsGrant(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{ScopesSupported: []string{"mcp:read", "offline_access"}}, oauthtest.ResourceConfig{ScopesSupported: []string{"mcp:read"}})
	e.as.Handle(e.as.RegisterPath, func(w http.ResponseWriter, r *http.Request) {
		oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{
			"client_id": "generous", "grant_types": []string{"authorization_code", "refresh_token"},
		})
	})
	e.post(e.transport(func(c *mcpauth.Config) { c.DisableRefreshTokens = true }), "x")
	if got := fxGet(e.authQuery(0), "scope"); got != "mcp:read" {
		t.Errorf("scope %q, want mcp:read", got)
	}
}

// TestFlow_REG2_REG4_RegistrationRequest: the DCR request of the
// transport: native application, refresh grant, public client, the
// loopback redirect URI it then sends in the authorization request.
func TestFlow_REG2_REG4_RegistrationRequest(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	e.post(e.transport(func(c *mcpauth.Config) { c.Client.ClientName = "My Agent" }), "x")
	regs := e.as.Registrations()
	if len(regs) != 1 {
		t.Fatalf("%d registrations", len(regs))
	}
	var body map[string]any
	if err := regs[0].JSON(&body); err != nil {
		t.Fatal(err)
	}
	redirect := fxGet(e.authQuery(0), "redirect_uri")
	want := map[string]any{
		"client_name":                "My Agent",
		"application_type":           "native",
		"grant_types":                []any{"authorization_code", "refresh_token"},
		"response_types":             []any{"code"},
		"token_endpoint_auth_method": "none",
		"redirect_uris":              []any{redirect},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("registration\n got %v\nwant %v", body, want)
	}
	if u, err := url.Parse(redirect); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Errorf("redirect_uri %q is not a loopback URI", redirect)
	}
	if fxGet(e.authQuery(0), "client_id") != e.as.Clients()[0] {
		t.Errorf("client_id %q, registered %q", fxGet(e.authQuery(0), "client_id"), e.as.Clients())
	}
}

// TestFlow_REG4_RegistrationRefused: a refused registration surfaces as
// *mcpauth.RegistrationError naming the endpoint and the code; nothing is
// opened.
func TestFlow_REG4_RegistrationRefused(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{RegisterError: &oauthtest.Error{Code: "invalid_redirect_uri", Description: "only https redirect URIs"}}, oauthtest.ResourceConfig{})
	err := e.fail(e.transport(nil))
	var re *mcpauth.RegistrationError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *mcpauth.RegistrationError", err)
	}
	endpoint := e.as.URL + e.as.RegisterPath
	if re.Endpoint != endpoint || re.Code != "invalid_redirect_uri" {
		t.Errorf("error %+v", re)
	}
	for _, s := range []string{endpoint, "invalid_redirect_uri", "only https redirect URIs"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q: %v", s, err)
		}
	}
	if n := len(e.browser.Opened()); n != 0 {
		t.Errorf("browser opened %d times", n)
	}
}

// TestFlow_REG2_NoRegistrationMethod: no pre-registered client, no CIMD,
// no registration endpoint: *mcpauth.NoRegistrationMethodError.
func TestFlow_REG2_NoRegistrationMethod(t *testing.T) {
	for _, cimd := range []bool{false, true} {
		t.Run(fmt.Sprint("cimd supported ", cimd), func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{NoRegistration: true, Metadata: func(doc map[string]any) {
				if cimd {
					doc["client_id_metadata_document_supported"] = true
				}
			}}, oauthtest.ResourceConfig{})
			err := e.fail(e.transport(nil))
			var ne *mcpauth.NoRegistrationMethodError
			if !errors.As(err, &ne) || ne.Issuer != e.as.Issuer || ne.CIMDSupported != cimd {
				t.Fatalf("err = %v, want *mcpauth.NoRegistrationMethodError", err)
			}
			if n := len(e.as.Registrations()) + len(e.as.Authorizations()) + len(e.browser.Opened()); n != 0 {
				t.Errorf("%d registration, authorization or browser requests", n)
			}
		})
	}
}

// TestFlow_REG2_Priority: pre-registered before CIMD before DCR.
func TestFlow_REG2_Priority(t *testing.T) {
	const cimdURL = "https://client.example/mcp-client.json"
	cimd := func(doc map[string]any) { doc["client_id_metadata_document_supported"] = true }
	tests := []struct {
		name       string
		metadata   func(map[string]any)
		mod        func(*mcpauth.Config, *oauthtest.AS)
		wantClient func(*oauthtest.AS) string
		wantDCR    int
	}{
		{
			name:     "pre-registered wins",
			metadata: cimd,
			mod: func(c *mcpauth.Config, as *oauthtest.AS) {
				c.ClientIDMetadataURL = cimdURL
				c.PreRegistered = map[string]mcpauth.PreRegisteredClient{as.Issuer: {ClientID: "pre-id"}}
			},
			wantClient: func(*oauthtest.AS) string { return "pre-id" },
		},
		{
			name:       "CIMD when supported and configured",
			metadata:   cimd,
			mod:        func(c *mcpauth.Config, _ *oauthtest.AS) { c.ClientIDMetadataURL = cimdURL },
			wantClient: func(*oauthtest.AS) string { return cimdURL },
		},
		{
			name:       "DCR when CIMD is configured but not supported",
			mod:        func(c *mcpauth.Config, _ *oauthtest.AS) { c.ClientIDMetadataURL = cimdURL },
			wantClient: func(as *oauthtest.AS) string { return as.Clients()[0] },
			wantDCR:    1,
		},
		{
			name: "REG-5 a pre-registered client of another issuer is not used",
			mod: func(c *mcpauth.Config, _ *oauthtest.AS) {
				c.PreRegistered = map[string]mcpauth.PreRegisteredClient{"https://other.example": {ClientID: "other-id"}}
			},
			wantClient: func(as *oauthtest.AS) string { return as.Clients()[0] },
			wantDCR:    1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{Metadata: tt.metadata}, oauthtest.ResourceConfig{})
			e.post(e.transport(func(c *mcpauth.Config) { tt.mod(c, e.as) }), "x")
			if got, want := fxGet(e.authQuery(0), "client_id"), tt.wantClient(e.as); got != want {
				t.Errorf("client_id %q, want %q", got, want)
			}
			if n := len(e.as.Registrations()); n != tt.wantDCR {
				t.Errorf("%d registrations, want %d", n, tt.wantDCR)
			}
		})
	}
}

// TestFlow_REG5_PreRegisteredSecret: a pre-registered confidential client
// authenticates at the token endpoint with its secret (HTTP Basic, the
// default), never in the authorization URL.
func TestFlow_REG5_PreRegisteredSecret(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	e.post(e.transport(func(c *mcpauth.Config) {
		c.PreRegistered = map[string]mcpauth.PreRegisteredClient{e.as.Issuer: {ClientID: "pre", Secret: "pre-SECRET"}}
	}), "x")
	r := e.as.TokenRequests()[0]
	req := &http.Request{Header: r.Header}
	id, secret, ok := req.BasicAuth()
	if !ok || id != "pre" || secret != "pre-SECRET" {
		t.Errorf("basic auth %q %q %v", id, secret, ok)
	}
	if strings.Contains(e.as.Authorizations()[0].RawQuery, "SECRET") {
		t.Error("secret in the authorization URL")
	}
}

// TestFlow_AS1_ChoosingAmongServers: of several authorization servers, the
// first with dynamic registration is chosen over an earlier one without;
// one with a pre-registered client is chosen first.
func TestFlow_AS1_ChoosingAmongServers(t *testing.T) {
	noDCR := oauthtest.NewAS(t, oauthtest.ASConfig{NoRegistration: true})
	dcr := oauthtest.NewAS(t, oauthtest.ASConfig{})
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{AS: []*oauthtest.AS{noDCR, dcr}})
	e.post(e.transport(nil), "x")
	if len(dcr.Authorizations()) != 1 || len(noDCR.Authorizations()) != 0 {
		t.Errorf("authorizations: dcr %d, no-dcr %d", len(dcr.Authorizations()), len(noDCR.Authorizations()))
	}

	e2 := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{AS: []*oauthtest.AS{dcr, noDCR}})
	e2.post(e2.transport(func(c *mcpauth.Config) {
		c.PreRegistered = map[string]mcpauth.PreRegisteredClient{noDCR.Issuer: {ClientID: "pre"}}
	}), "x")
	if len(noDCR.Authorizations()) != 1 {
		t.Errorf("the server with a pre-registered client was not chosen")
	}
}

// TestFlow_AS2_NewAuthorizationServer: when the resource moves to another
// authorization server, the client registers there, and never sends the
// first server's client id (or tokens) to the second. The same whether
// the first server issued a refresh token or not.
func TestFlow_AS2_NewAuthorizationServer(t *testing.T) {
	for _, refresh := range []bool{false, true} {
		t.Run(fmt.Sprint("refresh tokens ", refresh), func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{RefreshTokens: refresh}, oauthtest.ResourceConfig{})
			tr := e.transport(nil)
			e.post(tr, "first")
			oldClient := e.as.Clients()[0]
			oldToken := oauthtest.BearerToken(e.res.MCPRequests()[1].Header)

			as2 := oauthtest.NewAS(t, oauthtest.ASConfig{RefreshTokens: refresh})
			e.res.Configure(func(c *oauthtest.ResourceConfig) { c.AS = []*oauthtest.AS{as2} })
			e.post(tr, "second")

			if n := len(as2.Registrations()); n != 1 {
				t.Errorf("%d registrations at the new server, want 1", n)
			}
			if n := len(e.as.Registrations()); n != 1 {
				t.Errorf("%d registrations at the old server, want 1", n)
			}
			for _, r := range as2.Requests() {
				all := r.RawQuery + " " + string(r.Body) + " " + fmt.Sprint(r.Header)
				if strings.Contains(all, oldClient) || strings.Contains(all, oldToken) || strings.Contains(all, oauthtest.RefreshTokenMarker+"-"+strings.TrimPrefix(e.as.URL, "http://127.0.0.1:")) {
					t.Errorf("old credentials sent to the new server: %s %s", r.Method, r.Path)
				}
			}
			if got := fxGet(as2.Authorizations()[0].Query, "client_id"); got != as2.Clients()[0] {
				t.Errorf("client_id %q at the new server, registered %q", got, as2.Clients())
			}
		})
	}
}

// TestFlow_AS2_ReuseStoredRegistration: a second authorization at the same
// server reuses the stored dynamic registration.
func TestFlow_AS2_ReuseStoredRegistration(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	tr := e.transport(nil)
	e.post(tr, "x")
	if _, err := tr.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A new transport over the same store, as after a restart.
	tr2 := e.transport(nil)
	if _, err := tr2.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.as.Registrations()); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
	auths := e.as.Authorizations()
	if len(auths) != 3 {
		t.Fatalf("%d authorizations", len(auths))
	}
	for i, a := range auths {
		if got := fxGet(a.Query, "client_id"); got != e.as.Clients()[0] {
			t.Errorf("authorization %d with client_id %q", i, got)
		}
	}
}

// TestFlow_AS2_StaleRegistrationReplaced: a stored registration the server
// no longer accepts (invalid_client at the token endpoint) is replaced by
// a new one, once, without the person doing anything.
func TestFlow_AS2_StaleRegistrationReplaced(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	tr := e.transport(nil)
	e.post(tr, "x")
	forgotten := e.as.Clients()[0]
	e.as.Configure(func(c *oauthtest.ASConfig) {
		c.TokenError = func(f url.Values) *oauthtest.Error {
			if f.Get("client_id") == forgotten {
				return &oauthtest.Error{Status: 401, Code: "invalid_client"}
			}
			return nil
		}
	})
	if _, err := tr.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.as.Registrations()); n != 2 {
		t.Errorf("%d registrations, want 2", n)
	}
}

// TestFlow_LoginRequired: with no Step, a 401 yields *LoginRequiredError
// and nothing is registered.
func TestFlow_LoginRequired(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	tr := e.transport(func(c *mcpauth.Config) { c.Step = nil })
	err := e.fail(tr)
	if !mcpauth.IsLoginRequired(err) {
		t.Errorf("err = %v", err)
	}
	if n := len(e.as.Registrations()); n != 0 {
		t.Errorf("%d registrations", n)
	}
	if _, err := tr.Token(context.Background()); !mcpauth.IsLoginRequired(err) {
		t.Errorf("Token: %v", err)
	}
}

// TestFlow_NoSecretsInErrors: on failure paths whose secrets are known,
// no token, client secret, code or verifier appears in the returned
// error, the events or the debug logs.
func TestFlow_NoSecretsInErrors(t *testing.T) {
	tests := []struct {
		name string
		// setup configures the servers and the transport, and brings the
		// transport to the point of failure.
		setup func(t *testing.T, e *fxEnv) *mcpauth.Transport
	}{
		{
			name: "code exchange refused",
			setup: func(t *testing.T, e *fxEnv) *mcpauth.Transport {
				e.as.Configure(func(c *oauthtest.ASConfig) {
					c.IssueSecrets = true
					c.TokenError = func(url.Values) *oauthtest.Error {
						return &oauthtest.Error{Code: "invalid_grant", Description: "code expired"}
					}
				})
				return e.transport(nil)
			},
		},
		{
			name: "confidential client refused",
			setup: func(t *testing.T, e *fxEnv) *mcpauth.Transport {
				e.as.Configure(func(c *oauthtest.ASConfig) {
					c.TokenError = func(url.Values) *oauthtest.Error { return &oauthtest.Error{Status: 401, Code: "invalid_client"} }
				})
				return e.transport(func(c *mcpauth.Config) {
					c.PreRegistered = map[string]mcpauth.PreRegisteredClient{e.as.Issuer: {ClientID: "pre", Secret: oauthtest.ClientSecretMarker + "-pre"}}
				})
			},
		},
		{
			name: "refresh fails after expiry",
			setup: func(t *testing.T, e *fxEnv) *mcpauth.Transport {
				e.as.Configure(func(c *oauthtest.ASConfig) { c.RefreshTokens, c.ExpiresIn, c.IssueSecrets = true, 60, true })
				tr := e.transport(nil)
				e.post(tr, "x")
				e.as.Configure(func(c *oauthtest.ASConfig) {
					c.TokenError = func(url.Values) *oauthtest.Error {
						return &oauthtest.Error{Status: 503, Code: "temporarily_unavailable"}
					}
				})
				e.clock.Advance(3600e9)
				return tr
			},
		},
		{
			name: "iss mismatch",
			setup: func(t *testing.T, e *fxEnv) *mcpauth.Transport {
				e.as.Configure(func(c *oauthtest.ASConfig) {
					c.AuthorizeResponse = func(q url.Values) { q.Set("iss", "https://evil.example") }
				})
				return e.transport(nil)
			},
		},
		{
			name: "token endpoint unreachable",
			setup: func(t *testing.T, e *fxEnv) *mcpauth.Transport {
				closed := oauthtest.ClosedURL(t)
				e.as.Configure(func(c *oauthtest.ASConfig) {
					c.IssueSecrets = true
					c.Metadata = func(doc map[string]any) { doc["token_endpoint"] = closed + "/token" }
				})
				return e.transport(nil)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
			tr := tt.setup(t, e)
			err := e.fail(tr)
			e.browser.Wait()

			var secrets []string
			// The code travelled in the redirect the browser visited.
			for _, p := range e.browser.Pages() {
				u, _ := url.Parse(p.URL)
				secrets = append(secrets, u.Query().Get("code"))
			}
			for _, r := range e.as.TokenRequests() {
				f := r.Form()
				secrets = append(secrets, f.Get("code"), f.Get("code_verifier"), f.Get("refresh_token"), f.Get("client_secret"))
			}
			secrets = append(secrets, oauthtest.AccessTokenMarker, oauthtest.RefreshTokenMarker, oauthtest.ClientSecretMarker, oauthtest.CodeMarker)
			events, logs := e.record()
			for _, s := range secrets {
				if s == "" {
					continue
				}
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows %q: %v", s, err)
				}
				if strings.Contains(logs, s) {
					t.Errorf("logs show %q", s)
				}
				for _, ev := range events {
					if strings.Contains(ev, s) {
						t.Errorf("event shows %q: %s", s, ev)
					}
				}
			}
			if len(secrets) <= 4 {
				t.Errorf("no secret was exchanged, so the test checks little (%d token requests)", len(e.as.TokenRequests()))
			}
		})
	}
}

// TestFlow_EventsHoldNoSecrets: the events of a successful flow with a
// confidential client and refresh tokens hold no secret, and come in flow
// order.
func TestFlow_EventsHoldNoSecrets(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{IssueSecrets: true, RefreshTokens: true, ExpiresIn: 60, ScopesSupported: []string{"a", "offline_access"}},
		oauthtest.ResourceConfig{ScopesSupported: []string{"a"}})
	tr := e.transport(nil)
	e.post(tr, "x")
	e.clock.Advance(3600e9)
	e.post(tr, "y")
	events, logs := e.record()
	for _, s := range []string{oauthtest.AccessTokenMarker, oauthtest.RefreshTokenMarker, oauthtest.ClientSecretMarker, oauthtest.CodeMarker} {
		if strings.Contains(logs, s) {
			t.Errorf("logs show %s", s)
		}
		for _, ev := range events {
			if strings.Contains(ev, s) {
				t.Errorf("event shows %s: %s", s, ev)
			}
		}
	}
	e.mu.Lock()
	var kinds []mcpauth.EventKind
	for _, ev := range e.events {
		kinds = append(kinds, ev.Kind)
	}
	e.mu.Unlock()
	want := []mcpauth.EventKind{mcpauth.EventResourceMetadata, mcpauth.EventServerMetadata, mcpauth.EventRegistration,
		mcpauth.EventScope, mcpauth.EventAuthorization, mcpauth.EventToken, mcpauth.EventRefresh}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
}
