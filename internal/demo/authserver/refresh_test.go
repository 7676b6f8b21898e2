package authserver_test

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// offlineToken runs a flow that yields a refresh token.
func offlineToken(t *testing.T, s *authserver.Server) (authserver.Registration, *oauth2.Token) {
	t.Helper()
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	f := flow(s, oauthConfig(s, reg, "mcp:read", "mcp:write", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	return reg, tok
}

// Rotation: every refresh returns a new refresh token; replaying a rotated
// one revokes the grant, successors included.
func TestRefresh_RotationAndReuseRevokesGrant(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg, tok := offlineToken(t, s)
	rt0 := tok.RefreshToken

	status, body := postToken(t, s, refreshForm(reg.ClientID, rt0))
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	rt1, _ := body["refresh_token"].(string)
	if rt1 == "" || rt1 == rt0 {
		t.Fatalf("refresh token not rotated: %q", rt1)
	}
	if c := claims(t, s, body["access_token"].(string)); c["aud"] != testResource && !audHas(c["aud"], testResource) {
		t.Errorf("refreshed aud = %v, want original audience", c["aud"])
	}

	status, body = postToken(t, s, refreshForm(reg.ClientID, rt1))
	if status != 200 {
		t.Fatalf("second refresh: %d %v", status, body)
	}
	rt2 := body["refresh_token"].(string)

	if status, body = postToken(t, s, refreshForm(reg.ClientID, rt0)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse of rotated token: %d %v", status, body)
	}
	if status, body = postToken(t, s, refreshForm(reg.ClientID, rt2)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("successor after reuse: %d %v, want invalid_grant", status, body)
	}
	st := s.Stats()
	if st.GrantsRevokedForReuse != 1 || st.TokenRequests["refresh_token"] != 4 || st.RefreshTokensIssued != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRefresh_RotationDisabled(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true, DisableRotation: true})
	reg, tok := offlineToken(t, s)
	for range 2 {
		status, body := postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken))
		if status != 200 || body["refresh_token"] != tok.RefreshToken {
			t.Fatalf("refresh without rotation: %d %v", status, body)
		}
	}
}

// RES-1: resource on refresh must be the authorized one.
func TestRefresh_Resource(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true, Resources: []string{testResource, "http://127.0.0.1:9/other"}})
	reg, tok := offlineToken(t, s)
	status, body := postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken, "resource", "http://127.0.0.1:9/other"))
	if status != 400 || body["error"] != "invalid_target" {
		t.Fatalf("other resource: %d %v", status, body)
	}
	status, body = postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken, "resource", "http://127.0.0.1:9/unknown"))
	if status != 400 || body["error"] != "invalid_target" {
		t.Fatalf("unknown resource: %d %v", status, body)
	}
	status, body = postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken, "resource", testResource, "scope", "mcp:read"))
	if status != 200 {
		t.Fatalf("same resource: %d %v", status, body)
	}
	c := claims(t, s, body["access_token"].(string))
	if c["scope"] != "mcp:read" || !audHas(c["aud"], testResource) {
		t.Errorf("narrowed refresh claims = %v", c)
	}
	// The new refresh token keeps the grant's full scope (RFC 6749 §6).
	status, body = postToken(t, s, refreshForm(reg.ClientID, body["refresh_token"].(string), "scope", "mcp:write"))
	if status != 200 {
		t.Errorf("refresh with the grant's other scope: %d %v", status, body)
	}
}

// A refresh by a client without the refresh_token grant, or by another
// client, fails.
func TestRefresh_WrongClient(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	_, tok := offlineToken(t, s)
	other := register(t, s, nativeClient("authorization_code", "refresh_token"))
	if status, body := postToken(t, s, refreshForm(other.ClientID, tok.RefreshToken)); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("other client: %d %v", status, body)
	}
	noRefresh := register(t, s, nativeClient())
	if status, body := postToken(t, s, refreshForm(noRefresh.ClientID, tok.RefreshToken)); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("client without grant: %d %v", status, body)
	}
	if status, body := postToken(t, s, refreshForm("nobody", tok.RefreshToken)); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("unknown client: %d %v", status, body)
	}
}

// RFC 7009: revoking the refresh token ends the grant.
func TestRefresh_Revocation(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg, tok := offlineToken(t, s)
	resp, err := httpPostForm(s.Issuer()+"/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {reg.ClientID}, "token_type_hint": {"refresh_token"}})
	if err != nil || resp != 200 {
		t.Fatalf("revoke: %d %v", resp, err)
	}
	if status, body := postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken)); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after revocation: %d %v", status, body)
	}
}

func audHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}

// A rotated refresh token whose successor was never presented is accepted
// once more (the client lost the response); the abandoned successor is then
// refused, and once the new successor is used, the old token's reuse
// revokes the grant. StrictRotation refuses even the first retry.
func TestRefresh_LostResponseRetry(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg, tok := offlineToken(t, s)
	rt0 := tok.RefreshToken

	status, body := postToken(t, s, refreshForm(reg.ClientID, rt0))
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	lost := body["refresh_token"].(string)
	status, body = postToken(t, s, refreshForm(reg.ClientID, rt0))
	if status != 200 {
		t.Fatalf("retry after a lost response: %d %v, want 200", status, body)
	}
	rt1 := body["refresh_token"].(string)
	if status, body = postToken(t, s, refreshForm(reg.ClientID, lost)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("abandoned successor: %d %v, want invalid_grant", status, body)
	}
	if status, body = postToken(t, s, refreshForm(reg.ClientID, rt1)); status != 200 {
		t.Fatalf("refresh with the live successor: %d %v", status, body)
	}
	if status, body = postToken(t, s, refreshForm(reg.ClientID, rt0)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse after the successor was used: %d %v, want invalid_grant", status, body)
	}
	if st := s.Stats(); st.LostResponseRetries != 1 || st.GrantsRevokedForReuse != 1 {
		t.Errorf("stats = %+v, want 1 lost-response retry and 1 revocation", st)
	}

	strict := start(t, authserver.Config{AutoApprove: true, StrictRotation: true})
	reg, tok = offlineToken(t, strict)
	if status, _ := postToken(t, strict, refreshForm(reg.ClientID, tok.RefreshToken)); status != 200 {
		t.Fatal("first refresh failed")
	}
	if status, body := postToken(t, strict, refreshForm(reg.ClientID, tok.RefreshToken)); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("strict rotation retry: %d %v, want invalid_grant", status, body)
	}
}
