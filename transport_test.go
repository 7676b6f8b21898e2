package mcpauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// TestTransport_TOK1_BearerOnEveryRequest: once authorized, every request
// to the MCP server carries Authorization: Bearer with the token the
// authorization server issued, and no token ever travels in a query.
func TestTransport_TOK1_BearerOnEveryRequest(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	tr := e.transport(nil)
	for i := range 4 {
		e.post(tr, fmt.Sprint("call ", i))
	}
	if status, _, err := fxSend(t, tr, http.MethodGet, e.res.URL+"?page=2", nil); err != nil || status != 200 {
		t.Fatalf("GET: %d %v", status, err)
	}
	reqs := e.res.MCPRequests()
	if len(reqs) != 6 {
		t.Fatalf("%d MCP requests, want 6 (401, retry, 3 more, GET)", len(reqs))
	}
	if h := reqs[0].Header.Get("Authorization"); h != "" {
		t.Errorf("first request carried %q before any authorization", h)
	}
	var tok string
	for i, r := range reqs[1:] {
		h := r.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ") {
			t.Fatalf("request %d: Authorization %q", i+1, h)
		}
		if tok == "" {
			tok = strings.TrimPrefix(h, "Bearer ")
		} else if got := strings.TrimPrefix(h, "Bearer "); got != tok {
			t.Errorf("request %d: token changed without reason", i+1)
		}
	}
	if info, ok := e.as.Lookup(tok); !ok || info.Resource != e.res.URL {
		t.Errorf("token %q not issued for the server (%+v)", tok, info)
	}
	for _, srv := range []*oauthtest.Server{e.res.Server, e.as.Server} {
		for _, r := range srv.Requests() {
			if strings.Contains(r.RawQuery, tok) || strings.Contains(r.RawQuery, oauthtest.AccessTokenMarker) {
				t.Errorf("token in the query of %s %s?%s", r.Method, r.Path, r.RawQuery)
			}
		}
	}
}

// TestTransport_TOK2_OtherOriginGetsNoToken: a request through the same
// transport to another origin (another port on the same host, or the
// authorization server) carries no Authorization header, and passes
// untouched.
func TestTransport_TOK2_OtherOriginGetsNoToken(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	tr := e.transport(nil)
	e.post(tr, "x")
	other := oauthtest.NewServer(t)
	other.Handle("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+e.res.MetadataURL()+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	for _, u := range []string{other.URL + "/mcp", e.as.URL + "/anything"} {
		status, _, err := fxSend(t, tr, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{other.URL + "/mcp": 401, e.as.URL + "/anything": 404}[u]; status != want {
			t.Errorf("%s: status %d, want %d passed through", u, status, want)
		}
	}
	for _, srv := range []*oauthtest.Server{other, e.as.Server} {
		for _, r := range srv.Requests() {
			if h := r.Header.Get("Authorization"); h != "" && r.Path != e.as.TokenPath {
				t.Errorf("%s%s received Authorization %q", srv.URL, r.Path, h)
			}
		}
	}
	if n := len(e.as.Authorizations()); n != 1 {
		t.Errorf("a 401 from another origin started an authorization (%d)", n)
	}
}

// fxOnceReader is a body the http package cannot rewind: no GetBody is set
// for it.
type fxOnceReader struct{ r io.Reader }

func (o *fxOnceReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestTransport_BodyReplayedAfterAuthorization: the body of a request that
// triggers an authorization is sent again intact, also when the request
// has no GetBody.
func TestTransport_BodyReplayedAfterAuthorization(t *testing.T) {
	payload := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"s":"` + strings.Repeat("é", 5000) + `"}}}`
	bodies := map[string]func() io.Reader{
		"no GetBody":        func() io.Reader { return io.NopCloser(&fxOnceReader{strings.NewReader(payload)}) },
		"with GetBody":      func() io.Reader { return strings.NewReader(payload) },
		"chunked no length": func() io.Reader { return &fxOnceReader{strings.NewReader(payload)} },
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
			tr := e.transport(nil)
			req, err := http.NewRequest(http.MethodPost, e.res.URL, body())
			if err != nil {
				t.Fatal(err)
			}
			if name == "no GetBody" && req.GetBody != nil {
				t.Fatal("test body has GetBody")
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != payload {
				t.Errorf("response %d, echoed %d bytes, want %d", resp.StatusCode, len(got), len(payload))
			}
			reqs := e.res.MCPRequests()
			if len(reqs) != 2 {
				t.Fatalf("%d MCP requests", len(reqs))
			}
			for i, r := range reqs {
				if string(r.Body) != payload {
					t.Errorf("request %d body: %d bytes, want %d", i, len(r.Body), len(payload))
				}
			}
		})
	}
}

// TestTransport_403WithoutInsufficientScope: a 403 for another reason is
// returned as is, body included, and never retried nor authorized for.
func TestTransport_403WithoutInsufficientScope(t *testing.T) {
	for name, challenge := range map[string]string{
		"no challenge":  "",
		"invalid_token": `Bearer error="invalid_token"`,
		"other scheme":  `Basic realm="x", Bearer error="access_denied"`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{Handler: func(w http.ResponseWriter, _ *http.Request) {
				if challenge != "" {
					w.Header().Set("WWW-Authenticate", challenge)
				}
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte("forbidden: policy"))
			}})
			tr := e.transport(nil)
			for range 2 {
				status, body, err := fxSend(t, tr, http.MethodPost, e.res.URL, strings.NewReader("x"))
				if err != nil || status != http.StatusForbidden || body != "forbidden: policy" {
					t.Fatalf("got %d %q %v", status, body, err)
				}
			}
			if n := len(e.res.MCPRequests()); n != 3 {
				t.Errorf("%d MCP requests, want 3 (401, 403, 403)", n)
			}
			if n := len(e.as.Authorizations()); n != 1 {
				t.Errorf("%d authorizations, want 1", n)
			}
		})
	}
}

// TestTransport_STEP1_StepUpRequestsUnion: a 403 insufficient_scope
// naming a new scope leads to an authorization for the union of the
// scopes requested before and the challenged one, then the retry.
func TestTransport_STEP1_StepUpRequestsUnion(t *testing.T) {
	var as *oauthtest.AS
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{
		ChallengeScope: "mcp:read",
		Handler: func(w http.ResponseWriter, r *http.Request) {
			info, _ := as.Lookup(oauthtest.BearerToken(r.Header))
			if r.Header.Get("X-Op") == "write" && !strings.Contains(" "+strings.Join(info.Scopes, " ")+" ", " mcp:write ") {
				w.Header().Set("WWW-Authenticate", oauthtest.InsufficientScope("mcp:write"))
				w.WriteHeader(http.StatusForbidden)
				return
			}
			_, _ = io.Copy(w, r.Body)
		},
	})
	as = e.as
	tr := e.transport(nil)
	e.post(tr, "read")

	req, _ := http.NewRequest(http.MethodPost, e.res.URL, strings.NewReader("write"))
	req.Header.Set("X-Op", "write")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "write" {
		t.Fatalf("step-up: %d %q", resp.StatusCode, body)
	}
	if got := fxGet(e.authQuery(0), "scope"); got != "mcp:read" {
		t.Errorf("first authorization scope %q", got)
	}
	if got := fxGet(e.authQuery(1), "scope"); got != "mcp:read mcp:write" {
		t.Errorf("step-up scope %q, want the union \"mcp:read mcp:write\"", got)
	}
	if n := len(e.as.Authorizations()); n != 2 {
		t.Errorf("%d authorizations", n)
	}
	// The stepped-up token serves both operations from now on.
	e.post(tr, "read again")
	if n := len(e.as.Authorizations()); n != 2 {
		t.Errorf("%d authorizations after a read with the wider token", n)
	}
}

// TestTransport_STEP2_BoundedStepUp: a server that always answers 403
// insufficient_scope gets at most 3 authorizations per request, then
// *InsufficientScopeError.
func TestTransport_STEP2_BoundedStepUp(t *testing.T) {
	for _, max := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("MaxAuthorizations ", max), func(t *testing.T) {
			e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{Handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("WWW-Authenticate", oauthtest.InsufficientScope("mcp:admin"))
				w.WriteHeader(http.StatusForbidden)
			}})
			err := e.fail(e.transport(func(c *mcpauth.Config) { c.MaxAuthorizations = max }))
			want := max
			if want == 0 {
				want = mcpauth.DefaultMaxAuthorizations
			}
			var ie *mcpauth.InsufficientScopeError
			if !errors.As(err, &ie) || ie.Attempts != want || ie.ServerURL != e.res.URL || len(ie.Scopes) != 1 || ie.Scopes[0] != "mcp:admin" {
				t.Fatalf("err = %v (%+v), want *InsufficientScopeError after %d", err, ie, want)
			}
			if n := len(e.as.Authorizations()); n != want {
				t.Errorf("%d authorizations, want %d", n, want)
			}
			if n := len(e.res.MCPRequests()); n != want+1 {
				t.Errorf("%d MCP requests, want %d", n, want+1)
			}
			if want >= 2 {
				if got := fxGet(e.authQuery(1), "scope"); got != "mcp:admin" {
					t.Errorf("step-up scope %q", got)
				}
			}
		})
	}
}

// TestTransport_STEP2_Bounded401: a server that refuses every token gets
// at most 3 authorizations per request; its last 401 is returned.
func TestTransport_STEP2_Bounded401(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	e.res.Handle(e.res.Path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "no", http.StatusUnauthorized)
	})
	status, _, err := fxSend(t, e.transport(nil), http.MethodPost, e.res.URL, strings.NewReader("x"))
	if err != nil || status != http.StatusUnauthorized {
		t.Fatalf("got %d %v, want the 401", status, err)
	}
	if n := len(e.as.Authorizations()); n != mcpauth.DefaultMaxAuthorizations {
		t.Errorf("%d authorizations, want %d", n, mcpauth.DefaultMaxAuthorizations)
	}
}

// fxExpired authorizes a transport against a server issuing
// refresh tokens and one-hour access tokens, then moves the clock past the
// expiry.
func fxExpired(t *testing.T) (*fxEnv, *mcpauth.Transport) {
	e := newFxEnv(t, oauthtest.ASConfig{RefreshTokens: true, ExpiresIn: 3600}, oauthtest.ResourceConfig{
		Resource: "", ChallengeScope: "mcp:tools"})
	tr := e.transport(nil)
	e.post(tr, "x")
	if n := len(e.as.TokenRequests()); n != 1 {
		t.Fatalf("%d token requests after the authorization", n)
	}
	e.clock.Advance(2 * time.Hour)
	return e, tr
}

// TestTransport_Refresh_ExpiredToken: an expired access token with a
// refresh token costs exactly one token request (grant_type=refresh_token
// with the resource), then the request goes out with the new token; no
// 401 and no new authorization.
func TestTransport_Refresh_ExpiredToken(t *testing.T) {
	e, tr := fxExpired(t)
	before := len(e.res.MCPRequests())
	e.post(tr, "after expiry")

	reqs := e.as.TokenRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d token requests, want 2 (code, refresh)", len(reqs))
	}
	f := reqs[1].Form()
	if f.Get("grant_type") != "refresh_token" || f.Get("resource") != e.res.URL || !strings.HasPrefix(f.Get("refresh_token"), oauthtest.RefreshTokenMarker) || f.Get("scope") != "mcp:tools" {
		t.Errorf("refresh form %v", f)
	}
	mcp := e.res.MCPRequests()[before:]
	if len(mcp) != 1 {
		t.Fatalf("%d MCP requests after expiry, want 1", len(mcp))
	}
	tok := oauthtest.BearerToken(mcp[0].Header)
	if info, ok := e.as.Lookup(tok); !ok || tok == oauthtest.BearerToken(e.res.MCPRequests()[1].Header) {
		t.Errorf("request sent with %q (known %v), want the refreshed token", tok, ok)
		_ = info
	}
	if n := len(e.as.Authorizations()); n != 1 {
		t.Errorf("%d authorizations", n)
	}
	if _, err := tr.Token(t.Context()); err != nil {
		t.Errorf("Token after refresh: %v", err)
	}
}

// TestTransport_Refresh_Concurrent: 100 goroutines finding the token
// expired cause exactly one refresh.
func TestTransport_Refresh_Concurrent(t *testing.T) {
	e, tr := fxExpired(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			status, body, err := fxSend(t, tr, http.MethodPost, e.res.URL, strings.NewReader(fmt.Sprint(i)))
			if err == nil && (status != 200 || body != fmt.Sprint(i)) {
				err = fmt.Errorf("got %d %q", status, body)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	refreshes := 0
	for _, r := range e.as.TokenRequests() {
		if r.Form().Get("grant_type") == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Errorf("%d refresh requests, want 1", refreshes)
	}
	if n := len(e.as.Authorizations()); n != 1 {
		t.Errorf("%d authorizations", n)
	}
}

// TestTransport_Refresh_On401: a token the server refuses before its
// expiry is refreshed once, and the request retried.
func TestTransport_Refresh_On401(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{RefreshTokens: true}, oauthtest.ResourceConfig{})
	tr := e.transport(nil)
	e.post(tr, "x")
	revoked := oauthtest.BearerToken(e.res.MCPRequests()[1].Header)
	e.res.Configure(func(c *oauthtest.ResourceConfig) {
		c.Handler = func(w http.ResponseWriter, r *http.Request) {
			if oauthtest.BearerToken(r.Header) == revoked {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = io.Copy(w, r.Body)
		}
	})
	e.post(tr, "y")
	if n, want := len(e.as.TokenRequests()), 2; n != want {
		t.Errorf("%d token requests, want %d", n, want)
	}
	if n := len(e.as.Authorizations()); n != 1 {
		t.Errorf("%d authorizations, want 1", n)
	}
}

// TestTransport_Refresh_GrantRevoked: a refresh answered invalid_grant
// drops the grant and authorizes afresh, within the same request.
func TestTransport_Refresh_GrantRevoked(t *testing.T) {
	e, tr := fxExpired(t)
	e.as.Configure(func(c *oauthtest.ASConfig) {
		c.TokenError = func(f url.Values) *oauthtest.Error {
			if f.Get("grant_type") == "refresh_token" {
				return &oauthtest.Error{Code: "invalid_grant"}
			}
			return nil
		}
	})
	e.post(tr, "y")
	if n := len(e.as.Authorizations()); n != 2 {
		t.Errorf("%d authorizations, want 2", n)
	}
}

// TestTransport_ConcurrentFirstRequests: a request that went out without
// a token and is refused after another request already authorized uses
// the new token instead of starting a second authorization (a second
// browser window).
func TestTransport_ConcurrentFirstRequests(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	var once sync.Once
	e.res.Configure(func(c *oauthtest.ResourceConfig) {
		c.Handler = func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) }
	})
	// The first request to /held carries no token; it is answered 401
	// only once the other request has been authorized. Its retry is
	// served as the MCP endpoint.
	e.res.Handle("/held", func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(arrived)
			<-release
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if _, ok := e.as.Lookup(oauthtest.BearerToken(r.Header)); !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.Copy(w, r.Body)
	})
	tr := e.transport(nil)

	type result struct {
		status int
		body   string
		err    error
	}
	held := make(chan result, 1)
	go func() {
		// Same origin as the MCP server: the transport handles it.
		status, body, err := fxSend(t, tr, http.MethodPost, e.res.Server.URL+"/held", strings.NewReader("held"))
		held <- result{status, body, err}
	}()
	<-arrived
	e.post(tr, "first")
	close(release)
	if r := <-held; r.err != nil || r.status != 200 || r.body != "held" {
		t.Fatalf("held request: %d %q %v", r.status, r.body, r.err)
	}
	if n := len(e.as.Authorizations()); n != 1 {
		t.Errorf("%d authorizations, want 1", n)
	}
}

// TestTransport_CountRequests counts the HTTP requests from the first 401
// to the authorized retry, for a server like the conformance suite's
// metadata-default scenario: protected resource metadata at the
// path-inserted well-known URI (not named in the challenge), RFC 8414
// metadata at the issuer's oauth-authorization-server URI, dynamic
// registration.
func TestTransport_CountRequests(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{}, oauthtest.ResourceConfig{})
	e.post(e.transport(nil), "x")
	e.browser.Wait()
	toServers := e.res.Total() + e.as.Total() - 1 // without the first request, which got the 401
	toLoopback := len(e.browser.Pages())
	total := toServers + toLoopback
	t.Logf("requests from the first 401 to the authorized retry: %d (%d to the MCP and authorization servers: %q then %q; %d to the loopback redirect listener)",
		total, toServers, e.res.Paths()[1:], e.as.Paths(), toLoopback)
	// PRM, AS metadata, registration, authorize, redirect, token, retry.
	if total != 7 {
		t.Errorf("%d requests, want 7", total)
	}
}

// TestTransport_REF5_DisableRefreshTokensKeepsNone: a server that issues a
// refresh token although none was asked for does not get it kept by a
// client configured not to keep refresh tokens.
func TestTransport_REF5_DisableRefreshTokensKeepsNone(t *testing.T) {
	e := newFxEnv(t, oauthtest.ASConfig{RefreshTokens: true}, oauthtest.ResourceConfig{})
	tr := e.transport(func(c *mcpauth.Config) { c.DisableRefreshTokens = true })
	tok, err := tr.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("the returned token carries a refresh token")
	}
	recs, _ := e.store.List(context.Background())
	for _, r := range recs {
		if r.Token != nil && r.Token.RefreshToken != "" {
			t.Error("a refresh token was stored")
		}
	}
}
