package mcpauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// ohConnect connects a go-sdk client over its streamable transport.
func ohConnect(t testing.TB, ctx context.Context, tr *mcp.StreamableClientTransport) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "adapter-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func ohCall(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("%s returned a tool error: %v", name, res.Content)
	}
	return nil
}

// The adapter plugged into go-sdk's StreamableClientTransport: the 401
// authorizes once (offline_access with prompt=consent, so the strict
// provider issues a refresh token), the 403 insufficient_scope steps up
// with the union, and a new handler over the same store reconnects
// without any request to the authorization server.
func TestOAuthHandler_GoSDKStreamable(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	st, err := store.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h, err := mcpauth.NewOAuthHandler(d.ms.URL(), mcpauth.Config{Store: st, Step: headless()})
	if err != nil {
		t.Fatal(err)
	}
	var _ auth.OAuthHandler = h
	cs := ohConnect(t, ctx, &mcp.StreamableClientTransport{Endpoint: d.ms.URL(), OAuthHandler: h})
	if err := ohCall(ctx, cs, "whoami", nil); err != nil {
		t.Fatal(err)
	}
	if err := ohCall(ctx, cs, "write-note", map[string]any{"text": "via the adapter"}); err != nil {
		t.Fatalf("write-note after step-up: %v", err)
	}
	st1 := d.as.Stats()
	t.Logf("AS after login and step-up: %+v", st1)
	if st1.Registrations != 1 || st1.AuthorizationRequests != 2 || st1.RefreshTokensIssued == 0 {
		t.Errorf("want 1 registration, 2 authorizations (login, step-up) and a refresh token; got %+v", st1)
	}
	tok, err := h.Transport().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(tok.Scope, " "), "mcp:write") || !strings.Contains(strings.Join(tok.Scope, " "), "mcp:read") {
		t.Errorf("scope after step-up = %q, want the union of mcp:read and mcp:write", tok.Scope)
	}
	cs.Close()

	// A restart: a new handler over the same store.
	h2, err := mcpauth.NewOAuthHandler(d.ms.URL(), mcpauth.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	cs2 := ohConnect(t, ctx, &mcp.StreamableClientTransport{Endpoint: d.ms.URL(), OAuthHandler: h2})
	if err := ohCall(ctx, cs2, "write-note", map[string]any{"text": "after a restart"}); err != nil {
		t.Fatal(err)
	}
	if st2 := d.as.Stats(); st2.AuthorizationRequests != st1.AuthorizationRequests || st2.Registrations != 1 || st2.TokenRequests["refresh_token"] != 0 {
		t.Errorf("restart with a stored token reached the authorization server: %+v", st2)
	}
}

// TokenSource refreshes an expiring token (with the resource, RES-1) and
// never involves the person: with nothing usable stored it returns a nil
// source at once, even when a Step is configured.
func TestOAuthHandler_TokenSourceRefreshesNeverPrompts(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	clk := &ohClock{}
	st := store.NewMemory()
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: st, Step: headless(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := tr.OAuthHandler()
	if ts, err := h.TokenSource(ctx); ts != nil || err != nil {
		t.Fatalf("TokenSource with an empty store = %v, %v; want nil, nil", ts, err)
	}
	if n := d.as.Stats().AuthorizationRequests; n != 0 {
		t.Fatalf("TokenSource started %d authorizations", n)
	}
	first, err := tr.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Hour) // the access token is now expired for the client
	ts, err := h.TokenSource(ctx)
	if err != nil || ts == nil {
		t.Fatalf("TokenSource after expiry = %v, %v", ts, err)
	}
	got, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == first.AccessToken {
		t.Error("TokenSource returned the expired token instead of refreshing")
	}
	if n := d.as.Stats().TokenRequests["refresh_token"]; n != 1 {
		t.Errorf("refresh token requests = %d, want 1", n)
	}

	// A grant that can no longer be refreshed: nil source, no prompt.
	blocking := &ohBlockingStep{}
	tr2, _ := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: ohWithoutRefreshTokens(t, st), Step: blocking, Now: func() time.Time { return clk.Now().Add(time.Hour) }})
	if ts, err := tr2.OAuthHandler().TokenSource(ctx); ts != nil || err != nil {
		t.Fatalf("TokenSource with an expired, unrefreshable token = %v, %v; want nil, nil", ts, err)
	}
	if blocking.starts.Load() != 0 {
		t.Error("TokenSource involved the person's step")
	}
}

// ohClock is the client's clock, moved forward to expire tokens.
type ohClock struct{ offset atomic.Int64 }

func (c *ohClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *ohClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// ohBlockingStep is a Step that counts its uses and never completes.
type ohBlockingStep struct{ starts atomic.Int64 }

func (s *ohBlockingStep) Start(ctx context.Context, _ string) (authorize.Session, error) {
	s.starts.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

// ohWithoutRefreshTokens copies the records of st without their refresh tokens.
func ohWithoutRefreshTokens(t *testing.T, st store.Store) store.Store {
	t.Helper()
	ctx := context.Background()
	out := store.NewMemory()
	recs, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r = r.Clone()
		r.Token.RefreshToken = ""
		if _, err := out.Update(ctx, r.Key, func(*store.Record) (*store.Record, error) { return r, nil }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// ohBody records whether it was closed.
type ohBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *ohBody) Close() error { b.closed.Store(true); return nil }

func ohResponse(status int, challenge string) (*http.Response, *ohBody) {
	body := &ohBody{Reader: strings.NewReader("refused")}
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: body}
	if challenge != "" {
		resp.Header.Set("WWW-Authenticate", challenge)
	}
	return resp, body
}

func ohRequest(t *testing.T, url, accessToken string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return req
}

// A 401 for the current token refreshes it first; a 401 for the token that
// refresh produced authorizes afresh instead of refreshing again (the
// server may have moved to another authorization server, AS-2). Every
// answer's body is closed.
func TestOAuthHandler_UnauthorizedRefreshThenAuthorize(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Step: headless()})
	if err != nil {
		t.Fatal(err)
	}
	h := tr.OAuthHandler()
	tok, err := tr.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	challenge := fmt.Sprintf(`Bearer error="invalid_token", resource_metadata=%q`, d.ms.ResourceMetadataURL())

	resp, body := ohResponse(http.StatusUnauthorized, challenge)
	if err := h.Authorize(ctx, ohRequest(t, d.ms.URL(), tok.AccessToken), resp); err != nil {
		t.Fatal(err)
	}
	st := d.as.Stats()
	if !body.closed.Load() || st.TokenRequests["refresh_token"] != 1 || st.AuthorizationRequests != 1 {
		t.Fatalf("first 401: body closed %v, stats %+v; want a refresh and no new authorization", body.closed.Load(), st)
	}
	refreshed, err := tr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}

	resp, body = ohResponse(http.StatusUnauthorized, challenge)
	if err := h.Authorize(ctx, ohRequest(t, d.ms.URL(), refreshed.AccessToken), resp); err != nil {
		t.Fatal(err)
	}
	st = d.as.Stats()
	if !body.closed.Load() || st.TokenRequests["refresh_token"] != 1 || st.AuthorizationRequests != 2 {
		t.Fatalf("second 401: body closed %v, stats %+v; want a new authorization, no second refresh", body.closed.Load(), st)
	}

	// A 403 without insufficient_scope is left to go-sdk.
	resp, body = ohResponse(http.StatusForbidden, "")
	if err := h.Authorize(ctx, ohRequest(t, d.ms.URL(), refreshed.AccessToken), resp); err != nil || !body.closed.Load() {
		t.Fatalf("plain 403: %v, body closed %v", err, body.closed.Load())
	}
	// TOK-2: a request to another origin is refused, never authorized.
	resp, body = ohResponse(http.StatusUnauthorized, challenge)
	if err := h.Authorize(ctx, ohRequest(t, "http://127.0.0.1:1/mcp", ""), resp); err == nil || !body.closed.Load() {
		t.Fatalf("request to another origin: %v, body closed %v; want an error", err, body.closed.Load())
	}
}

// STEP-1/STEP-2 through the adapter: a 403 insufficient_scope steps up
// with the union of scopes; a server that keeps refusing the token each
// step-up produced gets MaxAuthorizations step-ups, then an
// *InsufficientScopeError.
func TestOAuthHandler_STEP2_BoundedStepUps(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Step: headless()})
	if err != nil {
		t.Fatal(err)
	}
	h := tr.OAuthHandler()
	tok, err := tr.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	challenge := fmt.Sprintf(`Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata=%q`, d.ms.ResourceMetadataURL())
	before := d.as.Stats().AuthorizationRequests
	for i := range mcpauth.DefaultMaxAuthorizations {
		resp, body := ohResponse(http.StatusForbidden, challenge)
		if err := h.Authorize(ctx, ohRequest(t, d.ms.URL(), tok.AccessToken), resp); err != nil {
			t.Fatalf("step-up %d: %v", i+1, err)
		}
		if !body.closed.Load() {
			t.Fatal("body not closed")
		}
		if tok, err = tr.Token(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(tok.Scope, " "), "mcp:write") {
			t.Fatalf("scope after step-up = %q", tok.Scope)
		}
	}
	resp, _ := ohResponse(http.StatusForbidden, challenge)
	err = h.Authorize(ctx, ohRequest(t, d.ms.URL(), tok.AccessToken), resp)
	var ise *mcpauth.InsufficientScopeError
	if !errors.As(err, &ise) {
		t.Fatalf("after %d refused step-ups: %v; want *InsufficientScopeError", mcpauth.DefaultMaxAuthorizations, err)
	}
	if n := d.as.Stats().AuthorizationRequests - before; n != mcpauth.DefaultMaxAuthorizations {
		t.Errorf("step-up authorizations = %d, want %d", n, mcpauth.DefaultMaxAuthorizations)
	}
}

// Without a Step the adapter reports that a person must log in, and
// go-sdk's call fails with that error instead of hanging.
func TestOAuthHandler_LoginRequired(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := mcpauth.NewOAuthHandler(d.ms.URL(), mcpauth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "adapter-test", Version: "1"}, nil)
	_, err = c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: d.ms.URL(), OAuthHandler: h}, nil)
	if !mcpauth.IsLoginRequired(err) {
		t.Fatalf("connect without a Step: %v; want a LoginRequiredError", err)
	}
}

// A DPoP-bound token cannot travel in go-sdk's Bearer header: TokenSource
// says so and points at the RoundTripper.
func TestOAuthHandler_DPoPTokenRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	url := srv.URL + "/mcp"
	st := store.NewMemory()
	now := time.Now()
	_, err := st.Update(context.Background(), store.Key{Resource: url, Issuer: "http://127.0.0.1:1"}, func(*store.Record) (*store.Record, error) {
		return &store.Record{Token: &token.Token{
			Token:  oauth2.Token{AccessToken: "bound", TokenType: "DPoP", Expiry: now.Add(time.Hour)},
			Issuer: "http://127.0.0.1:1", IssuedAt: now,
		}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := mcpauth.NewOAuthHandler(url, mcpauth.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.TokenSource(context.Background()); err == nil || !strings.Contains(err.Error(), "Transport.Client()") {
		t.Fatalf("TokenSource with a DPoP token: %v", err)
	}
}
