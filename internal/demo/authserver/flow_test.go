package authserver_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// REF-3/REF-4: offline_access with prompt=consent and the refresh_token
// grant yields a refresh token; the access token is a JWT for the resource.
func TestCodeFlow_OfflineAccessWithPromptConsent(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	if !hasScope(scopeOf(tok), "offline_access") {
		t.Errorf("scope %q lacks offline_access", scopeOf(tok))
	}
	c := claims(t, s, tok.AccessToken)
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != testResource {
		if c["aud"] != testResource {
			t.Errorf("aud = %v, want %s", c["aud"], testResource)
		}
	}
	if c["iss"] != s.Issuer() || c["client_id"] != reg.ClientID || c["sub"] != "demo-user" {
		t.Errorf("claims = %v", c)
	}
	if !hasScope(c["scope"].(string), "mcp:read") {
		t.Errorf("scope claim = %v", c["scope"])
	}
	if _, ok := c["exp"].(float64); !ok {
		t.Errorf("exp missing: %v", c)
	}
	if tok.Extra("id_token") != nil {
		t.Error("ID token issued without openid")
	}
	st := s.Stats()
	if st.Registrations != 1 || st.TokenRequests["authorization_code"] != 1 || st.RefreshTokensIssued != 1 || st.AuthorizationRequests != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// REF-4: OIDC Core §11 — without prompt=consent offline_access is dropped.
func TestCodeFlow_OfflineAccessWithoutPromptConsent(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	tok, err := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access")).Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without prompt=consent")
	}
	if hasScope(scopeOf(tok), "offline_access") {
		t.Errorf("scope %q still has offline_access", scopeOf(tok))
	}
}

// REF-2: a client registered without the refresh_token grant never gets one.
func TestCodeFlow_ClientWithoutRefreshGrant(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient()) // grant_types default: authorization_code
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token issued to a client without the refresh_token grant")
	}
}

func TestCodeFlow_RefreshTokensDisabled(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true, DisableRefreshTokens: true})
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	if len(reg.GrantTypes) != 1 {
		t.Errorf("registered grant_types = %v, want refresh_token removed", reg.GrantTypes)
	}
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token issued while disabled")
	}
}

// ISS-1: iss on the success redirect (RFC 9207), checked by demotest.Flow;
// openid yields an ID token whose aud is the client.
func TestCodeFlow_IssAndIDToken(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient())
	tok, err := flow(s, oauthConfig(s, reg, "openid", "profile", "mcp:read")).Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" {
		t.Fatal("no id_token with openid")
	}
	c := claims(t, s, idt)
	if c["aud"] != reg.ClientID {
		if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != reg.ClientID {
			t.Errorf("id_token aud = %v, want %s", c["aud"], reg.ClientID)
		}
	}
	if c["sub"] != "demo-user" {
		t.Errorf("id_token sub = %v", c["sub"])
	}
	// op's userinfo endpoint serves the profile claims.
	req, _ := http.NewRequest(http.MethodGet, s.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&info)
	if resp.StatusCode != 200 || info["name"] != "Demo User" || info["sub"] != "demo-user" {
		t.Errorf("userinfo: %d %v", resp.StatusCode, info)
	}
}

func TestCodeFlow_ReplayedCodeRejected(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	code, verifier, err := f.Code(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.Exchange(ctx(t), code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Exchange(ctx(t), code, verifier)
	if retrieveCode(t, err) != "invalid_grant" {
		t.Fatalf("replay: %v, want invalid_grant", err)
	}
	// RFC 6749 §4.1.2: what the code yielded is revoked.
	if status, body := postToken(t, s, refreshForm(reg.ClientID, tok.RefreshToken)); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after code replay: %d %v", status, body)
	}
	if s.Stats().CodeReplays != 1 {
		t.Errorf("CodeReplays = %d", s.Stats().CodeReplays)
	}
}

// PKCE-1: a wrong verifier fails; a public client without PKCE is refused.
func TestCodeFlow_PKCE(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	code, _, err := f.Code(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exchange(ctx(t), code, "wrong-verifier-wrong-verifier-wrong-verifier-00"); retrieveCode(t, err) != "invalid_grant" {
		t.Errorf("wrong verifier: %v, want invalid_grant", err)
	}

	u := oauthConfig(s, reg, "mcp:read").AuthCodeURL("st") // no code_challenge
	loc, err := (&demotest.Browser{}).Authorize(ctx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	if q := loc.Query(); q.Get("error") != "invalid_request" || q.Get("iss") != s.Issuer() {
		t.Errorf("no PKCE: %v", loc)
	}
	u = oauthConfig(s, reg, "mcp:read").AuthCodeURL("st", oauth2Param("code_challenge", "abc"), oauth2Param("code_challenge_method", "plain"))
	loc, err = (&demotest.Browser{}).Authorize(ctx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v", loc)
	}
}

// Scope allow-list: a client registered with scope X asking for more gets
// invalid_scope (the trap the spec describes).
func TestCodeFlow_RegisteredScopeIsAnAllowList(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	md := nativeClient("authorization_code", "refresh_token")
	md.Scope = "mcp:read"
	reg := register(t, s, md)
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	_, err := f.Run(ctx(t))
	if retrieveCode(t, err) != "invalid_scope" {
		t.Fatalf("got %v, want invalid_scope", err)
	}
	if _, err := flow(s, oauthConfig(s, reg, "mcp:read")).Run(ctx(t)); err != nil {
		t.Errorf("registered scope refused: %v", err)
	}
}

// AccessTokenLifetime of a few seconds works.
func TestCodeFlow_ShortAccessTokenLifetime(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true, AccessTokenLifetime: 2 * time.Second})
	reg := register(t, s, nativeClient())
	tok, err := flow(s, oauthConfig(s, reg, "mcp:read")).Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.Expiry); d < time.Second || d > 3*time.Second {
		t.Errorf("expires in %v, want ~2s", d)
	}
	c := claims(t, s, tok.AccessToken)
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat < 1 || exp-iat > 3 {
		t.Errorf("exp-iat = %v", exp-iat)
	}
	s.SetAccessTokenLifetime(time.Hour)
	tok, err = flow(s, oauthConfig(s, reg, "mcp:read")).Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(tok.Expiry) < 50*time.Minute {
		t.Errorf("SetAccessTokenLifetime ignored: %v", time.Until(tok.Expiry))
	}
}
