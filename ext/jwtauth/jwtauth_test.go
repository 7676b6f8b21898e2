package jwtauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/ext/internal/keys"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

func newKey(t *testing.T) *Key {
	t.Helper()
	k, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verify checks an assertion's signature and returns its claims.
func verify(t *testing.T, k *Key, assertion string) (jwt.Claims, map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm())})
	if err != nil {
		t.Fatalf("assertion does not parse: %v", err)
	}
	var c jwt.Claims
	var all map[string]any
	if err := tok.Claims(k.Signer().Public(), &c, &all); err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	return c, all
}

func TestAuthApply(t *testing.T) {
	k := newKey(t)
	now := time.Unix(1_700_000_000, 0)
	a := &Auth{ClientID: "client-1", Key: k, Audience: "https://as.example", Now: func() time.Time { return now }}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, "https://as.example/token", nil)
	if err := a.Apply(req, form, "https://as.example/token"); err != nil {
		t.Fatal(err)
	}
	if form.Get("client_assertion_type") != AssertionType {
		t.Errorf("client_assertion_type = %q", form.Get("client_assertion_type"))
	}
	if form.Has("client_id") || req.Header.Get("Authorization") != "" {
		t.Errorf("sent client_id or Authorization besides the assertion: %v", form)
	}
	c, _ := verify(t, k, form.Get("client_assertion"))
	if c.Issuer != "client-1" || c.Subject != "client-1" {
		t.Errorf("iss/sub = %q/%q, want the client_id", c.Issuer, c.Subject)
	}
	if len(c.Audience) != 1 || c.Audience[0] != "https://as.example" {
		t.Errorf("aud = %v, want the issuer alone", c.Audience)
	}
	if c.IssuedAt.Time() != now || c.Expiry.Time() != now.Add(DefaultLifetime) {
		t.Errorf("iat %v exp %v, want %v and a minute later", c.IssuedAt.Time(), c.Expiry.Time(), now)
	}
	if c.ID == "" {
		t.Error("no jti")
	}

	// Each request gets a fresh assertion with its own jti.
	form2 := url.Values{}
	if err := a.Apply(req, form2, "https://as.example/token"); err != nil {
		t.Fatal(err)
	}
	c2, _ := verify(t, k, form2.Get("client_assertion"))
	if c2.ID == c.ID {
		t.Error("jti reused across assertions")
	}
}

func TestAuthAudienceDefaultsToEndpoint(t *testing.T) {
	k := newKey(t)
	a := &Auth{ClientID: "c", Key: k, Lifetime: 10 * time.Second}
	s, err := a.Assertion("https://as.example/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := verify(t, k, s)
	if c.Audience[0] != "https://as.example/oauth/token" || c.Expiry.Time().Sub(c.IssuedAt.Time()) != 10*time.Second {
		t.Errorf("aud %v, lifetime %v", c.Audience, c.Expiry.Time().Sub(c.IssuedAt.Time()))
	}
}

func TestAuthBadInput(t *testing.T) {
	if _, err := (&Auth{ClientID: "c"}).Assertion("https://as"); !errors.Is(err, ErrNoKey) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := (&Auth{Key: newKey(t)}).Assertion("https://as"); err == nil || !strings.Contains(err.Error(), "client_id") {
		t.Errorf("missing client_id: %v", err)
	}
	if _, err := (&Auth{ClientID: "c", Key: newKey(t)}).Assertion(""); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("missing audience: %v", err)
	}
}

func metadata() *discovery.ServerMetadata {
	return &discovery.ServerMetadata{
		Issuer:                            "https://as.example",
		TokenEndpoint:                     "https://as.example/token",
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt", "client_secret_basic"},
		TokenEndpointAuthSigningAlgValuesSupported: []string{"ES256", "RS256"},
	}
}

func TestMethodClientAuth(t *testing.T) {
	k := newKey(t)
	m := &Method{Key: k}
	pre := &registration.Client{Kind: registration.PreRegistered, ID: "c1"}

	ca, err := m.ClientAuth(pre, metadata())
	if err != nil {
		t.Fatal(err)
	}
	a, ok := ca.(*Auth)
	if !ok || a.ClientID != "c1" || a.Audience != "https://as.example" {
		t.Fatalf("got %#v", ca)
	}

	m.Audience = AudienceTokenEndpoint
	ca, _ = m.ClientAuth(pre, metadata())
	if ca.(*Auth).Audience != "https://as.example/token" {
		t.Errorf("AudienceTokenEndpoint gave aud %q", ca.(*Auth).Audience)
	}

	// A client registered with another method keeps it.
	dcr := &registration.Client{Kind: registration.Dynamic, ID: "d1", Secret: "s", AuthMethod: registration.AuthClientSecretBasic}
	if ca, err := m.ClientAuth(dcr, metadata()); err != nil || ca != (token.SecretBasic{ClientID: "d1", Secret: "s"}) {
		t.Errorf("client_secret_basic client got %#v, %v", ca, err)
	}
}

func TestMethodClientAuthErrors(t *testing.T) {
	pre := &registration.Client{Kind: registration.PreRegistered, ID: "c1"}

	if _, err := (&Method{}).ClientAuth(pre, metadata()); !errors.Is(err, ErrNoKey) {
		t.Errorf("missing key: %v", err)
	}

	md := metadata()
	md.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic"}
	var ue *UnsupportedError
	if _, err := (&Method{Key: newKey(t)}).ClientAuth(pre, md); !errors.As(err, &ue) || ue.Want != "private_key_jwt" {
		t.Errorf("server without private_key_jwt: %v", err)
	}

	md = metadata()
	md.TokenEndpointAuthSigningAlgValuesSupported = []string{"RS256"}
	_, err := (&Method{Key: newKey(t)}).ClientAuth(pre, md)
	if !errors.As(err, &ue) || ue.Want != "ES256" || !strings.Contains(err.Error(), "token_endpoint_auth_signing_alg_values_supported") {
		t.Errorf("server without ES256: %v", err)
	}

	// A server that lists nothing is not second-guessed.
	md = metadata()
	md.TokenEndpointAuthMethodsSupported, md.TokenEndpointAuthSigningAlgValuesSupported = nil, nil
	if _, err := (&Method{Key: newKey(t)}).ClientAuth(pre, md); err != nil {
		t.Errorf("server listing nothing: %v", err)
	}
}

// TestTokenEndpoint: the assertion reaches a token endpoint on 127.0.0.1
// through token.Endpoint, and verifies there.
func TestTokenEndpoint(t *testing.T) {
	k := newKey(t)
	s := mockas.New(t)
	var got url.Values
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		got = mockas.Form(r)
		s.Issue(w, "Bearer", nil)
	}
	md := metadata()
	md.Issuer, md.TokenEndpoint = s.Issuer(), s.TokenEndpoint()
	ca, err := (&Method{Key: k}).ClientAuth(&registration.Client{ID: "c1"}, md)
	if err != nil {
		t.Fatal(err)
	}
	ep := &token.Endpoint{URL: md.TokenEndpoint, Issuer: md.Issuer, Auth: ca}
	if _, err := ep.Do(context.Background(), url.Values{"grant_type": {"client_credentials"}}, nil); err != nil {
		t.Fatal(err)
	}
	c, _ := verify(t, k, got.Get("client_assertion"))
	if c.Audience[0] != s.Issuer() || c.Subject != "c1" {
		t.Errorf("claims %+v", c)
	}
}
