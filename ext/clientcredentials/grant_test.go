package clientcredentials_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/ext/clientcredentials"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/ext/jwtauth"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// get sends one request to the MCP server through a transport made with cfg.
func get(t *testing.T, s *mockas.Server, cfg mcpauth.Config) (*http.Response, error) {
	t.Helper()
	tr, err := mcpauth.NewTransport(s.MCPURL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.MCPURL(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	resp, err := tr.Client().Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestClientSecretBasic(t *testing.T) {
	s := mockas.New(t)
	s.Metadata = map[string]any{"token_endpoint_auth_methods_supported": []string{"client_secret_basic"}}
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		f := mockas.Form(r)
		id, secret, ok := r.BasicAuth()
		switch {
		case f.Get("grant_type") != "client_credentials":
			mockas.Error(w, 400, "unsupported_grant_type", f.Get("grant_type"))
		case !ok || id != "svc" || secret != "s3cret":
			mockas.Error(w, 401, "invalid_client", "bad credentials")
		case f.Get("resource") != s.MCPURL():
			mockas.Error(w, 400, "invalid_target", "resource "+f.Get("resource"))
		case f.Get("scope") != "mcp:tools":
			mockas.Error(w, 400, "invalid_scope", "scope "+f.Get("scope"))
		default:
			s.Issue(w, "Bearer", nil)
		}
	}
	resp, err := get(t, s, mcpauth.Config{
		Grant:         clientcredentials.Grant{},
		Scopes:        []string{"mcp:tools"},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "s3cret"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || s.TokenCalls() != 1 {
		t.Errorf("status %d after %d token requests", resp.StatusCode, s.TokenCalls())
	}
}

func TestClientSecretPost(t *testing.T) {
	s := mockas.New(t)
	s.Metadata = map[string]any{"token_endpoint_auth_methods_supported": []string{"client_secret_post"}}
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		f := mockas.Form(r)
		if f.Get("client_id") != "svc" || f.Get("client_secret") != "s3cret" {
			mockas.Error(w, 401, "invalid_client", "")
			return
		}
		s.Issue(w, "Bearer", nil)
	}
	resp, err := get(t, s, mcpauth.Config{
		Grant:         clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "s3cret"}},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
}

// TestPrivateKeyJWT: SEP-1046's recommended authentication, and a server
// publishing neither an authorization endpoint nor PKCE support, which a
// grant without a person does not need.
func TestPrivateKeyJWT(t *testing.T) {
	key, err := jwtauth.ParseKey(testKeyPEM(t), "")
	if err != nil {
		t.Fatal(err)
	}
	s := mockas.New(t)
	s.Metadata = map[string]any{
		"authorization_endpoint":                           nil,
		"code_challenge_methods_supported":                 nil,
		"grant_types_supported":                            []string{"client_credentials"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256"},
	}
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		f := mockas.Form(r)
		tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
		var c jwt.Claims
		if err == nil {
			err = tok.Claims(key.Signer().Public(), &c)
		}
		if err == nil {
			err = c.Validate(jwt.Expected{Issuer: "svc", Subject: "svc", AnyAudience: jwt.Audience{s.Issuer()}})
		}
		if err != nil || f.Get("client_assertion_type") != jwtauth.AssertionType || f.Get("grant_type") != "client_credentials" {
			mockas.Error(w, 401, "invalid_client", "assertion")
			return
		}
		s.Issue(w, "Bearer", nil)
	}
	resp, err := get(t, s, mcpauth.Config{
		Grant:         clientcredentials.Grant{},
		ClientAuth:    (&jwtauth.Method{Key: key}).ClientAuth,
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", AuthMethod: registration.AuthPrivateKeyJWT}},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
}

func TestRefused(t *testing.T) {
	s := mockas.New(t)
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		mockas.Error(w, 401, "invalid_client", "unknown client")
	}
	_, err := get(t, s, mcpauth.Config{
		Grant:         clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "wrong-secret"}},
	})
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Fatalf("err = %v, want a token.Error invalid_client", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

func TestPublicClientRefused(t *testing.T) {
	s := mockas.New(t)
	_, err := get(t, s, mcpauth.Config{
		Grant:         clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "public"}},
	})
	if !errors.Is(err, clientcredentials.ErrPublicClient) {
		t.Fatalf("err = %v, want ErrPublicClient", err)
	}
	if s.TokenCalls() != 0 {
		t.Errorf("%d token requests for a public client", s.TokenCalls())
	}
}

func TestGrantNotSupported(t *testing.T) {
	md := &discovery.ServerMetadata{Issuer: "https://as.example", GrantTypesSupported: []string{"authorization_code"}}
	ep := &token.Endpoint{URL: "https://as.example/token", Auth: token.SecretBasic{ClientID: "c", Secret: "s"}}
	_, err := clientcredentials.Grant{}.Token(context.Background(), mcpauth.GrantRequest{Endpoint: ep, Server: md})
	if err == nil || !strings.Contains(err.Error(), "does not support the client credentials grant") {
		t.Fatalf("err = %v", err)
	}
}

// testKeyPEM returns a new P-256 key as PKCS #8 PEM, as a client's key
// file would hold it.
func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
