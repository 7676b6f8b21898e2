package authserver_test

import (
	"net/url"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// RES-1: an unknown resource is invalid_target at the authorization
// endpoint (redirected, with iss) and at the token endpoint.
func TestResource_WrongResourceRejected(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Resource = "http://127.0.0.1:9/not-mine"
	_, _, err := f.Code(ctx(t)) // Flow checks iss on the error redirect too
	if retrieveCode(t, err) != "invalid_target" {
		t.Fatalf("authorize: %v, want invalid_target", err)
	}

	f.Resource = testResource
	code, verifier, err := f.Code(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	status, body := postToken(t, s, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {reg.ClientID}, "redirect_uri": {redirectURI}, "resource": {"http://127.0.0.1:9/not-mine"},
	})
	if status != 400 || body["error"] != "invalid_target" {
		t.Errorf("token: %d %v", status, body)
	}
}

// Without any resource the token's audience is the client (no MCP server
// accepts it), unless a DefaultResource is configured.
func TestResource_Absent(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Resource = ""
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if c := claims(t, s, tok.AccessToken); !audHas(c["aud"], reg.ClientID) {
		t.Errorf("aud = %v, want the client id", c["aud"])
	}

	s = start(t, authserver.Config{AutoApprove: true, DefaultResource: testResource})
	reg = register(t, s, nativeClient())
	f = flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Resource = ""
	if tok, err = f.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if c := claims(t, s, tok.AccessToken); !audHas(c["aud"], testResource) {
		t.Errorf("aud = %v, want the default resource", c["aud"])
	}
}

// A resource given only at the token endpoint binds the token to it.
func TestResource_BoundAtTokenEndpoint(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	s.AddResource("http://127.0.0.1:9/late")
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Resource = ""
	code, verifier, err := f.Code(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	f.Resource = "http://127.0.0.1:9/late"
	tok, err := f.Exchange(ctx(t), code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := claims(t, s, tok.AccessToken); !audHas(c["aud"], "http://127.0.0.1:9/late") {
		t.Errorf("aud = %v", c["aud"])
	}
}
