package workload_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/internal/keys"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/ext/workload"
	"github.com/mcpauth/mcpauth/token"
)

// workloadJWT signs a workload JWT that expires at exp.
func workloadJWT(t *testing.T, sub string, exp time.Time) string {
	t.Helper()
	k, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Sign(map[string]any{
		"iss": "https://issuer.example", "sub": sub, "aud": "https://as.example/token",
		"iat": time.Now().Unix(), "exp": exp.Unix(), "jti": sub,
	}, keys.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *mockas.Server, cfg mcpauth.Config) (*http.Response, error) {
	t.Helper()
	tr, err := mcpauth.NewTransport(s.MCPURL(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.Client().Post(s.MCPURL(), "application/json", strings.NewReader(`{}`))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// TestGrant: the JWT bearer grant with the workload JWT and the resource,
// at a server that publishes the metadata of the SEP-1933 example (no
// authorization endpoint, no PKCE), with no client authentication.
func TestGrant(t *testing.T) {
	jwt := workloadJWT(t, "spiffe://example.org/agent", time.Now().Add(time.Hour))
	s := mockas.New(t)
	s.Metadata = map[string]any{
		"authorization_endpoint":           nil,
		"code_challenge_methods_supported": nil,
		"grant_types_supported":            []string{workload.GrantType},
	}
	var got map[string][]string
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		got = mockas.Form(r)
		s.Issue(w, "Bearer", nil)
	}
	resp, err := run(t, s, mcpauth.Config{
		Grant:         &workload.Grant{Source: workload.Static(jwt)},
		Scopes:        []string{"mcp:read"},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {}},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	want := map[string][]string{
		"grant_type": {workload.GrantType},
		"assertion":  {jwt},
		"resource":   {s.MCPURL()},
		"scope":      {"mcp:read"},
	}
	if len(got) != len(want) {
		t.Errorf("form has %d fields (%v), want exactly %v", len(got), keysOf(got), keysOf(want))
	}
	for k, v := range want {
		if g := got[k]; len(g) != 1 || g[0] != v[0] {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
}

func keysOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestClientID: with a client identity, its authentication goes along.
func TestClientID(t *testing.T) {
	s := mockas.New(t)
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		if mockas.Form(r).Get("client_id") != "wl-client" {
			mockas.Error(w, 401, "invalid_client", "")
			return
		}
		s.Issue(w, "Bearer", nil)
	}
	jwt := workloadJWT(t, "w", time.Now().Add(time.Hour))
	resp, err := run(t, s, mcpauth.Config{
		Grant:         &workload.Grant{Source: workload.Static(jwt)},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "wl-client"}},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
}

// TestRefusedNoRetry: a refusal comes back as the server's error, after a
// single token request and no other grant.
func TestRefusedNoRetry(t *testing.T) {
	for _, code := range []string{"invalid_grant", "invalid_scope", "unauthorized_client"} {
		t.Run(code, func(t *testing.T) {
			s := mockas.New(t)
			s.Token = func(w http.ResponseWriter, r *http.Request) { mockas.Error(w, 400, code, "no") }
			jwt := workloadJWT(t, "w", time.Now().Add(time.Hour))
			_, err := run(t, s, mcpauth.Config{
				Grant:         &workload.Grant{Source: workload.Static(jwt)},
				PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "c"}},
			})
			var te *token.Error
			if !errors.As(err, &te) || te.Code != code {
				t.Fatalf("err = %v, want token error %s", err, code)
			}
			if strings.Contains(err.Error(), jwt) {
				t.Error("the error shows the workload JWT")
			}
			if n := s.TokenCalls(); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}
}

func TestBadJWT(t *testing.T) {
	expired := workloadJWT(t, "old-workload", time.Now().Add(-time.Minute))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`))
	for _, tc := range []struct {
		name, jwt string
		want      error
	}{
		{"expired", expired, workload.ErrExpired},
		{"opaque token", "not-a-jwt", workload.ErrNotJWT},
		{"two parts", "a.b", workload.ErrNotJWT},
		{"payload not base64", "a.!!!.c", workload.ErrNotJWT},
		{"payload not an object", "a." + payload + ".c", workload.ErrNotJWT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mockas.New(t)
			_, err := run(t, s, mcpauth.Config{
				Grant:         &workload.Grant{Source: workload.Static(tc.jwt)},
				PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "c"}},
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(tc.jwt) > 10 && strings.Contains(err.Error(), tc.jwt) {
				t.Error("the error shows the JWT")
			}
			if s.TokenCalls() != 0 {
				t.Error("a bad JWT was sent")
			}
		})
	}
	// The expired JWT's identity is named, to find which one is stale.
	_, err := (&workload.Grant{Source: workload.Static(expired)}).Token(context.Background(), mcpauth.GrantRequest{Endpoint: &token.Endpoint{URL: "https://as.example/token"}})
	if err == nil || !strings.Contains(err.Error(), "old-workload") {
		t.Errorf("err = %v", err)
	}
}

func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	src := workload.File(path)

	if _, err := src(context.Background()); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src(context.Background()); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	// The platform rotates the file: each call reads it afresh.
	for _, v := range []string{"first.jwt.value", "second.jwt.value"} {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := src(context.Background())
		if err != nil || got != v {
			t.Errorf("got %q, %v; want %q", got, err, v)
		}
	}
	if err := os.WriteFile(path, make([]byte, 70<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src(context.Background()); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("huge file: %v", err)
	}
}

func TestNoSource(t *testing.T) {
	_, err := (&workload.Grant{}).Token(context.Background(), mcpauth.GrantRequest{Endpoint: &token.Endpoint{}})
	if err == nil || !strings.Contains(err.Error(), "no JWT source") {
		t.Errorf("err = %v", err)
	}
	if _, err := workload.Static("")(context.Background()); err == nil {
		t.Error("an empty static JWT was accepted")
	}
}

// The claims are JSON; a JWT whose exp is not a number is left to the
// server.
func TestNonNumericExp(t *testing.T) {
	b, _ := json.Marshal(map[string]any{"exp": "soon"})
	jwt := "e30." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
	s := mockas.New(t)
	resp, err := run(t, s, mcpauth.Config{
		Grant:         &workload.Grant{Source: workload.Static(jwt)},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "c"}},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
}
