package authserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

func postRegister(t *testing.T, s *authserver.Server, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(s.Issuer()+"/register", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

// REG-4: a bad redirect URI is refused with the RFC 7591 §3.2.2 error body.
func TestDCR_RejectsBadRedirectURI(t *testing.T) {
	s := start(t, authserver.Config{})
	for _, uri := range []string{
		"http://example.com/cb",       // http off loopback
		"javascript:alert(1)",         // not http(s)
		"myapp:/callback",             // custom scheme
		"https://example.com/cb#frag", // fragment
	} {
		status, body := postRegister(t, s, `{"redirect_uris":["`+uri+`"],"token_endpoint_auth_method":"none"}`)
		if status != 400 || body["error"] != "invalid_redirect_uri" || body["error_description"] == "" {
			t.Errorf("%s: %d %v", uri, status, body)
		}
	}
	if status, body := postRegister(t, s, `{"token_endpoint_auth_method":"none"}`); status != 400 || body["error"] != "invalid_redirect_uri" {
		t.Errorf("no redirect_uris: %d %v", status, body)
	}
	if status, body := postRegister(t, s, `{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}`); status != 400 || body["error"] != "invalid_client_metadata" {
		t.Errorf("implicit grant: %d %v", status, body)
	}
	if status, body := postRegister(t, s, `{"redirect_uris":["https://a.example/cb"],"scope":"admin"}`); status != 400 || body["error"] != "invalid_client_metadata" {
		t.Errorf("unknown scope: %d %v", status, body)
	}
	if s.Stats().Registrations != 0 {
		t.Errorf("Registrations = %d", s.Stats().Registrations)
	}
}

func TestDCR_PublicClientResponse(t *testing.T) {
	s := start(t, authserver.Config{})
	status, body := postRegister(t, s, `{"redirect_uris":["http://127.0.0.1:1/cb","http://[::1]/cb"],"token_endpoint_auth_method":"none",
		"grant_types":["authorization_code","refresh_token"],"application_type":"native","client_name":"CLI","scope":"mcp:read offline_access"}`)
	if status != 201 {
		t.Fatalf("%d %v", status, body)
	}
	if body["client_id"] == "" || body["client_secret"] != nil || body["client_secret_expires_at"] != nil {
		t.Errorf("public client response: %v", body)
	}
	for _, k := range []string{"redirect_uris", "grant_types", "response_types", "token_endpoint_auth_method", "application_type", "client_name", "scope", "client_id_issued_at"} {
		if body[k] == nil {
			t.Errorf("response lacks %s: %v", k, body)
		}
	}
}

// A confidential client gets a secret and can use it with
// client_secret_basic; the defaults are RFC 7591's.
func TestDCR_ConfidentialClient(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	status, body := postRegister(t, s, `{"redirect_uris":["`+redirectURI+`"]}`)
	if status != 201 {
		t.Fatalf("%d %v", status, body)
	}
	if body["token_endpoint_auth_method"] != "client_secret_basic" || body["application_type"] != "web" {
		t.Errorf("defaults: %v", body)
	}
	if body["client_secret"] == nil || body["client_secret_expires_at"] != float64(0) {
		t.Fatalf("no secret: %v", body)
	}
	reg := authserver.Registration{ClientID: body["client_id"].(string), ClientSecret: body["client_secret"].(string)}
	if _, err := flow(s, oauthConfig(s, reg, "mcp:read")).Run(ctx(t)); err != nil {
		t.Fatalf("flow with client_secret_basic: %v", err)
	}
	cfg := oauthConfig(s, reg, "mcp:read")
	cfg.ClientSecret = "wrong"
	if _, err := flow(s, cfg).Run(ctx(t)); retrieveCode(t, err) != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}

	// client_secret_post.
	reg2, err := s.RegisterClient(authserver.ClientMetadata{RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "client_secret_post"})
	if err != nil {
		t.Fatal(err)
	}
	cfg = oauthConfig(s, *reg2, "mcp:read")
	cfg.Endpoint.AuthStyle = 1 // oauth2.AuthStyleInParams
	if _, err := flow(s, cfg).Run(ctx(t)); err != nil {
		t.Errorf("flow with client_secret_post: %v", err)
	}
}
