package mcpauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// Redaction: access tokens, refresh tokens, client secrets, codes, PKCE
// verifiers, DPoP keys and proofs, and client assertions never appear in
// an error, a log line (text or JSON, at debug level), an Observer event
// or a page shown to the person. The flows below run with recognisable
// values for each, and every byte of what they produced is searched.

// hAuth is a client authentication that adds a signed client assertion
// (as private_key_jwt does) to the authentication chosen for the client,
// and holds a private key, as such methods do.
type hAuth struct {
	inner token.ClientAuth
	key   string
	n     *atomic.Int64
}

func (a hAuth) Apply(req *http.Request, form url.Values, endpoint string) error {
	if err := a.inner.Apply(req, form, endpoint); err != nil {
		return err
	}
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", fmt.Sprintf("%s-%d-signed-with-%s", hAssertionMarker, a.n.Add(1), a.key))
	return nil
}

// hProofs is a transport that adds a DPoP proof header to every request,
// signed with a key it holds, as a DPoP transport does.
type hProofs struct {
	base http.RoundTripper
	key  string //lint:ignore U1000 held as a DPoP transport holds its key
	n    atomic.Int64
}

func (p *hProofs) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	// A proof is a JWT signed with the key; the key itself is not in it.
	r.Header.Set("DPoP", fmt.Sprintf("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.eyJodG0iOiJQT1NUIn0.%s-%d", hProofMarker, p.n.Add(1)))
	return p.base.RoundTrip(r)
}

// redactionConfig adds to h's configuration: JSON logs beside the text
// ones, a client assertion, DPoP-style proofs, and a settable clock.
func redactionConfig(h *hEnv, now func() time.Time) mcpauth.Config {
	cfg := h.config(hOptions{})
	jsonLogs := slog.NewJSONHandler(hWriter{h}, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
	cfg.Logger = slog.New(slog.NewMultiHandler(cfg.Logger.Handler(), jsonLogs))
	key := hKeyMarker + "-private-key-d"
	var n atomic.Int64
	cfg.ClientAuth = func(c *registration.Client, md *discovery.ServerMetadata) (token.ClientAuth, error) {
		return hAuth{inner: token.AuthFor(c, md.TokenEndpointAuthMethodsSupported), key: key, n: &n}, nil
	}
	proofs := &hProofs{base: cfg.Base, key: key}
	cfg.Base, cfg.HTTPClient = proofs, &http.Client{Transport: proofs}
	cfg.Now = now
	h.mu.Lock()
	h.extra = append(h.extra, key)
	h.mu.Unlock()
	return cfg
}

type hClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *hClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *hClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRedaction_Success: login, requests, refresh, step-up and logout
// with a confidential client, refresh tokens, client assertions and DPoP
// proofs, against an authorization server whose revocation endpoint
// echoes the token it is sent.
func TestRedaction_Success(t *testing.T) {
	h := newHEnv(t, hOptions{
		as:  oauthtest.ASConfig{IssueSecrets: true, RefreshTokens: true, ExpiresIn: 3600, ScopesSupported: []string{"mcp:tools", "mcp:admin", "offline_access"}},
		res: oauthtest.ResourceConfig{ChallengeScope: "mcp:tools"},
	})
	h.as.Configure(func(c *oauthtest.ASConfig) {
		c.Metadata = func(doc map[string]any) { doc["revocation_endpoint"] = h.as.URL + "/revoke" }
	})
	h.as.Server.Handle("/revoke", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		(&oauthtest.Error{Code: "unsupported_token_type", Description: "cannot revoke " + r.PostForm.Get("token")}).Write(w)
	})
	clock := &hClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tr, err := mcpauth.NewTransport(h.res.URL, redactionConfig(h, clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	do := func() {
		t.Helper()
		resp, err := tr.Client().Post(h.res.URL, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
	}
	do()
	do()
	clock.Advance(2 * time.Hour) // expired: refreshed before the next request
	do()
	h.res.Configure(func(c *oauthtest.ResourceConfig) { c.RequiredScopes = []string{"mcp:tools", "mcp:admin"} })
	do() // 403 insufficient_scope: step-up
	tok, err := tr.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	results, err := tr.Logout(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var revokeErrs []string
	for _, r := range results {
		if r.RevokeErr != nil {
			revokeErrs = append(revokeErrs, r.RevokeErr.Error())
		}
	}
	if len(revokeErrs) == 0 || !strings.Contains(strings.Join(revokeErrs, " "), "cannot revoke [redacted]") {
		t.Errorf("revocation errors %q", revokeErrs)
	}
	n := len(h.as.TokenRequests())
	if n < 3 {
		t.Fatalf("%d token requests: the flow did not exercise refresh and step-up", n)
	}
	for _, r := range h.as.TokenRequests() {
		if !strings.HasPrefix(r.Form().Get("client_assertion"), hAssertionMarker) || !strings.Contains(r.Header.Get("DPoP"), hProofMarker) {
			t.Fatalf("token request without assertion or proof: %v", r.Form())
		}
	}
	// The token's own formatting never shows it, whatever the verb.
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if s := fmt.Sprintf(f, tok); strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) {
			t.Errorf("%s of a token shows it: %s", f, s)
		}
	}
	h.noLeak(fmt.Errorf("revocation: %s", strings.Join(revokeErrs, "; ")))
}

// TestRedaction_Failures: failures at each step, several of them from a
// server that echoes what it was sent; the errors, logs and events hold
// none of the secrets.
func TestRedaction_Failures(t *testing.T) {
	echo := func(h *hEnv) {
		h.as.Server.Handle(h.as.TokenPath, func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			(&oauthtest.Error{Code: "invalid_grant", Description: fmt.Sprintf("request was %s with %s and %s",
				r.PostForm.Encode(), r.Header.Get("Authorization"), r.Header.Get("DPoP"))}).Write(w)
		})
	}
	tests := []struct {
		name  string
		opts  hOptions
		setup func(h *hEnv)
	}{
		{"token request refused, echoing the request", hOptions{as: oauthtest.ASConfig{IssueSecrets: true}}, echo},
		{"token endpoint unreachable", hOptions{}, editASM(func(h *hEnv, doc map[string]any) {
			doc["token_endpoint"] = oauthtest.ClosedURL(h.t) + "/token"
		})},
		{"token endpoint redirects elsewhere with the secrets in the Location", hOptions{as: oauthtest.ASConfig{IssueSecrets: true}}, func(h *hEnv) {
			h.as.Server.Handle(h.as.TokenPath, func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				http.Redirect(w, r, h.other.URL+"/x?"+r.PostForm.Encode(), http.StatusTemporaryRedirect)
			})
		}},
		{"token response unusable", hOptions{}, editToken(func(out map[string]any) {
			out["token_type"] = out["access_token"] // a token_type that is the token itself
		})},
		{"registration refused", hOptions{as: oauthtest.ASConfig{RegisterError: &oauthtest.Error{Code: "invalid_redirect_uri"}}}, nil},
		{"state mismatch", hOptions{}, editCallback(func(q url.Values) { q.Set("state", q.Get("code")) })},
		{"iss mismatch with the code in the description", hOptions{}, editCallback(func(q url.Values) {
			q.Set("iss", "https://evil.example")
			q.Set("error_description", "your code was "+q.Get("code"))
		})},
		{"authorization error naming the code it carries too", hOptions{}, editCallback(func(q url.Values) {
			q.Set("error", "server_error")
			q.Set("error_description", "could not issue "+q.Get("code"))
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHEnv(t, tc.opts)
			if tc.setup != nil {
				tc.setup(h)
			}
			err := h.post(redactionConfig(h, time.Now))
			if err == nil || strings.HasPrefix(err.Error(), "no error:") {
				t.Fatalf("err = %v", err)
			}
			h.noLeak(err)
		})
	}
}

// TestRedaction_RefreshRefused: a refresh refused with invalid_grant by a
// server that echoes the refresh token; the transport, with no person to
// ask, reports that a login is required, without the token.
func TestRedaction_RefreshRefused(t *testing.T) {
	h := newHEnv(t, hOptions{as: oauthtest.ASConfig{IssueSecrets: true, RefreshTokens: true, ExpiresIn: 60}})
	clock := &hClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := redactionConfig(h, clock.Now)
	tr, err := mcpauth.NewTransport(h.res.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.as.Configure(func(c *oauthtest.ASConfig) {
		c.TokenError = func(f url.Values) *oauthtest.Error {
			return &oauthtest.Error{Code: "invalid_grant", Description: "refresh token " + f.Get("refresh_token") + " was revoked"}
		}
	})
	clock.Advance(time.Hour)
	cfg.Step = nil
	tr2, err := mcpauth.NewTransport(h.res.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr2.Token(context.Background())
	if !mcpauth.IsLoginRequired(err) {
		t.Fatalf("Token: %v", err)
	}
	h.noLeak(err)
	var refreshes int
	for _, r := range h.as.TokenRequests() {
		if r.Form().Get("grant_type") == "refresh_token" {
			refreshes++
		}
	}
	if refreshes == 0 {
		t.Error("no refresh was attempted")
	}
}
