package registration_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/registration"
)

const loopbackRedirect = "http://127.0.0.1:53682/callback"

// TestRegister_REG4_REF2_RequestBody: the DCR request of a loopback client
// declares application_type native, the authorization_code and
// refresh_token grants, the code response type and a public client.
func TestRegister_REG4_REF2_RequestBody(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{})
	md := registration.Metadata{ClientName: "test client", RedirectURIs: []string{loopbackRedirect}}.Defaults(true)
	c, err := registration.Register(context.Background(), nil, as.Issuer, as.URL+as.RegisterPath, md)
	if err != nil {
		t.Fatal(err)
	}
	regs := as.Registrations()
	if len(regs) != 1 {
		t.Fatalf("%d registration requests", len(regs))
	}
	if ct := regs[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := regs[0].JSON(&body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"client_name":                "test client",
		"redirect_uris":              []any{loopbackRedirect},
		"grant_types":                []any{"authorization_code", "refresh_token"},
		"response_types":             []any{"code"},
		"token_endpoint_auth_method": "none",
		"application_type":           "native",
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("registration body\n got %v\nwant %v", body, want)
	}
	if c.Kind != registration.Dynamic || c.Issuer != as.Issuer || c.ID == "" || c.Secret != "" || c.AuthMethod != "none" {
		t.Errorf("client %+v", c)
	}
	if !reflect.DeepEqual(c.GrantTypes, []string{"authorization_code", "refresh_token"}) || !reflect.DeepEqual(c.RedirectURIs, []string{loopbackRedirect}) {
		t.Errorf("client grants %q redirects %q", c.GrantTypes, c.RedirectURIs)
	}
}

// TestRegister_REG4_RefusedRedirectURI: an RFC 7591 error body becomes a
// *registration.Error naming the endpoint and the code, with advice.
func TestRegister_REG4_RefusedRedirectURI(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{RegisterError: &oauthtest.Error{
		Code: "invalid_redirect_uri", Description: "loopback redirect URIs are not allowed"}})
	endpoint := as.URL + as.RegisterPath
	_, err := registration.Register(context.Background(), nil, as.Issuer, endpoint, registration.Metadata{RedirectURIs: []string{loopbackRedirect}}.Defaults(true))
	var re *registration.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *registration.Error", err)
	}
	if re.Endpoint != endpoint || re.StatusCode != 400 || re.Code != "invalid_redirect_uri" || re.Description != "loopback redirect URIs are not allowed" {
		t.Errorf("error fields %+v", re)
	}
	for _, s := range []string{endpoint, "invalid_redirect_uri", "loopback redirect URIs are not allowed", "pre-registered"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q: %s", s, err)
		}
	}
}

// TestRegister_REG4_BadResponses: answers that cannot be used.
func TestRegister_REG4_BadResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		check   func(*registration.Error) bool
	}{
		{"no client_id", func(w http.ResponseWriter, _ *http.Request) {
			oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{"client_name": "x"})
		}, func(e *registration.Error) bool { return strings.Contains(e.Description, "client_id") }},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte("<html>"))
		}, func(e *registration.Error) bool { return strings.Contains(e.Description, "JSON") }},
		{"500 without body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}, func(e *registration.Error) bool { return e.StatusCode == 500 && e.Code == "" }},
		{"too large", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"client_id":"` + strings.Repeat("x", 1<<20) + `"}`))
		}, func(e *registration.Error) bool { return strings.Contains(e.Description, "larger") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oauthtest.NewServer(t)
			srv.Handle("/register", tt.handler)
			_, err := registration.Register(context.Background(), nil, srv.URL, srv.URL+"/register", registration.Metadata{}.Defaults(true))
			var re *registration.Error
			if !errors.As(err, &re) || !tt.check(re) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// TestRegister_RecordsServerAnswer: what the server registered wins over
// what was asked; absent fields keep the requested values; a server that
// issues no secret made a public client; secret expiry is kept.
func TestRegister_RecordsServerAnswer(t *testing.T) {
	srv := oauthtest.NewServer(t)
	srv.Handle("/register", func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{
			"client_id":                  "abc",
			"client_secret":              "s3cret",
			"client_secret_expires_at":   2000000000,
			"client_id_issued_at":        1700000000,
			"grant_types":                []string{"authorization_code"},
			"token_endpoint_auth_method": "client_secret_post",
			"scope":                      "mcp",
		})
	})
	c, err := registration.Register(context.Background(), nil, srv.URL, srv.URL+"/register",
		registration.Metadata{RedirectURIs: []string{loopbackRedirect}}.Defaults(true))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "abc" || c.Secret != "s3cret" || c.AuthMethod != "client_secret_post" || c.Scope != "mcp" ||
		!reflect.DeepEqual(c.GrantTypes, []string{"authorization_code"}) ||
		!reflect.DeepEqual(c.RedirectURIs, []string{loopbackRedirect}) ||
		!c.SecretExpiresAt.Equal(time.Unix(2000000000, 0)) || !c.IssuedAt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("client %+v", c)
	}
	if !c.Expired(time.Unix(2000000000, 0)) || c.Expired(time.Unix(1999999999, 0)) {
		t.Error("Expired wrong around SecretExpiresAt")
	}

	srv.Handle("/register", func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{"client_id": "pub"})
	})
	c, err = registration.Register(context.Background(), nil, srv.URL, srv.URL+"/register",
		registration.Metadata{TokenEndpointAuthMethod: "client_secret_basic"}.Defaults(true))
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthMethod != registration.AuthNone {
		t.Errorf("no secret issued, auth method %q, want none", c.AuthMethod)
	}
}

// TestRegister_RDR1_RefusesInsecureEndpoint: the registration endpoint
// must be https or loopback http.
func TestRegister_RDR1_RefusesInsecureEndpoint(t *testing.T) {
	for _, e := range []string{"http://as.example/register", "javascript:alert(1)", "file:///tmp/x"} {
		if _, err := registration.Register(context.Background(), nil, "https://as.example", e, registration.Metadata{}); err == nil {
			t.Errorf("Register accepted endpoint %q", e)
		}
	}
}

// TestRegister_DPoPBoundAccessTokens: a client that always sends DPoP
// proofs says so at registration (RFC 9449 §5.2); others say nothing.
func TestRegister_DPoPBoundAccessTokens(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{})
	md := registration.Metadata{RedirectURIs: []string{loopbackRedirect}, DPoPBoundAccessTokens: true}.Defaults(true)
	if _, err := registration.Register(context.Background(), nil, as.Issuer, as.URL+as.RegisterPath, md); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := as.Registrations()[0].JSON(&body); err != nil {
		t.Fatal(err)
	}
	if body["dpop_bound_access_tokens"] != true {
		t.Errorf("registration body %v lacks dpop_bound_access_tokens: true", body)
	}
}
