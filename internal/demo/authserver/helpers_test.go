package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// testResource is an RFC 8707 resource indicator; nothing listens there.
const testResource = "http://127.0.0.1:9/mcp"

const redirectURI = "http://127.0.0.1:4567/callback"

func start(t *testing.T, cfg authserver.Config) *authserver.Server {
	t.Helper()
	if cfg.Resources == nil {
		cfg.Resources = []string{testResource}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := authserver.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// nativeClient is the metadata an MCP CLI would register.
func nativeClient(grants ...string) authserver.ClientMetadata {
	return authserver.ClientMetadata{
		ClientName:              "Test CLI",
		RedirectURIs:            []string{redirectURI},
		GrantTypes:              grants,
		TokenEndpointAuthMethod: "none",
		ApplicationType:         "native",
	}
}

func register(t *testing.T, s *authserver.Server, md any) authserver.Registration {
	t.Helper()
	var reg authserver.Registration
	if err := demotest.Register(ctx(t), s.Issuer()+"/register", md, &reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

func oauthConfig(s *authserver.Server, reg authserver.Registration, scopes ...string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if reg.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     reg.ClientID,
		ClientSecret: reg.ClientSecret,
		RedirectURL:  redirectURI,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.Issuer() + "/authorize",
			TokenURL:  s.Issuer() + "/oauth/token",
			AuthStyle: style,
		},
	}
}

func flow(s *authserver.Server, cfg *oauth2.Config) *demotest.Flow {
	return &demotest.Flow{Config: cfg, Resource: testResource, Issuer: s.Issuer()}
}

// claims verifies a JWT against the server's JWKS and returns its claims.
func claims(t *testing.T, s *authserver.Server, token string) map[string]any {
	t.Helper()
	resp, err := http.Get(s.Issuer() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	sig, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks.Key(sig.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("no JWKS key for kid %q", sig.Signatures[0].Header.KeyID)
	}
	payload, err := sig.Verify(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// postToken sends a raw token request and decodes the JSON answer.
func postToken(t *testing.T, s *authserver.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.Issuer()+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func refreshForm(clientID, refreshToken string, extra ...string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {refreshToken}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	return f
}

func retrieveCode(t *testing.T, err error) string {
	t.Helper()
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	if ae, ok := err.(*demotest.AuthError); ok {
		return ae.Code
	}
	return ""
}

func scopeOf(tok *oauth2.Token) string {
	s, _ := tok.Extra("scope").(string)
	return s
}

func hasScope(scope, want string) bool {
	for _, f := range strings.Fields(scope) {
		if f == want {
			return true
		}
	}
	return false
}

func oauth2Param(k, v string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam(k, v) }

func httpPostForm(u string, form url.Values) (int, error) {
	resp, err := http.PostForm(u, form)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
