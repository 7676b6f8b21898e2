package mcpauth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/token"
)

// OAuthHandler adapts a [Transport] to the official go-sdk's
// auth.OAuthHandler, for the OAuthHandler field of its
// mcp.StreamableClientTransport. A program that uses go-sdk's
// auth.AuthorizationCodeHandler switches by constructing this instead:
//
//	h, err := mcpauth.NewOAuthHandler(url, mcpauth.Config{Step: &authorize.Loopback{Open: open}, Store: st})
//	...
//	transport := &mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: h}
//
// The flow is the Transport's: stored credentials per issuer, refresh with
// the resource, registrations reused, step-up with the union of scopes.
//
// go-sdk sends the token itself, always with the Bearer scheme, and retries
// a request once after Authorize. A DPoP-bound token (ext/dpop) needs a
// proof on every request, which only the Transport adds: for DPoP, give
// go-sdk Transport.Client() as its HTTPClient instead of this handler.
type OAuthHandler struct {
	t *Transport

	mu sync.Mutex
	// from401 is the access token the last 401 produced. A 401 for that
	// very token means a refresh will not help (the server may have moved
	// to another authorization server), so the next one authorizes.
	from401 string
	// stepUps counts, by challenged scope, consecutive step-ups that the
	// server answered with the same challenge for the token they produced
	// (STEP-2: a server that never accepts is not asked forever).
	stepUps map[string]stepUpState
}

type stepUpState struct {
	token string // the access token the last step-up produced
	n     int
}

var _ auth.OAuthHandler = (*OAuthHandler)(nil)

// NewOAuthHandler returns a go-sdk auth.OAuthHandler for the MCP server at
// serverURL, backed by a new [Transport]. The server URL must be the
// Endpoint given to go-sdk's transport.
func NewOAuthHandler(serverURL string, cfg Config) (*OAuthHandler, error) {
	t, err := NewTransport(serverURL, cfg)
	if err != nil {
		return nil, err
	}
	return t.OAuthHandler(), nil
}

// OAuthHandler returns a go-sdk auth.OAuthHandler backed by t, sharing
// its tokens and store: a program can hand the handler to go-sdk and still
// call t.Token or t.Logout. Each call returns a new handler.
func (t *Transport) OAuthHandler() *OAuthHandler {
	return &OAuthHandler{t: t, stepUps: map[string]stepUpState{}}
}

// Transport returns the Transport behind h.
func (h *OAuthHandler) Transport() *Transport { return h.t }

// TokenSource implements auth.OAuthHandler. go-sdk calls it for every
// request, holding its connection's lock, so it never involves a person:
// it returns the stored token, refreshed first when it is about to expire
// (one token request, shared by all callers and bounded by 30 s), and with
// no usable token a nil source, so that go-sdk sends the request without
// one and calls Authorize on the 401.
func (h *OAuthHandler) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	tok, err := h.t.tokenForRequest(ctx)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if authScheme(tok) != "Bearer" {
		return nil, fmt.Errorf("mcpauth: the token for %s is %s-bound and go-sdk's OAuthHandler sends Bearer tokens only; use Transport.Client() as the HTTPClient instead of the OAuthHandler", h.t.serverURL, tok.TokenType)
	}
	ot := tok.Token // a copy: go-sdk only reads it
	return oauth2.StaticTokenSource(&ot), nil
}

// Authorize implements auth.OAuthHandler. On a 401 it refreshes or
// authorizes, as the Transport does; on a 403 insufficient_scope it
// authorizes again with the union of the scopes requested before and the
// challenged ones (STEP-1), a bounded number of times for the same
// challenge (STEP-2). Any other 403 is left to go-sdk. It closes the
// response body.
func (h *OAuthHandler) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	defer discard(resp)
	t := h.t
	if !t.forServer(req.URL) {
		return fmt.Errorf("mcpauth: the OAuthHandler for %s was asked to authorize a request to %s; create one per MCP server (TOK-2)", t.serverURL, req.URL.Redacted())
	}
	sent, err := h.sentToken(ctx, req)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		h.mu.Lock()
		mayRefresh := sent == nil || sent.AccessToken != h.from401
		h.mu.Unlock()
		tok, err := t.unauthorized(ctx, challengeOf(resp), sent, mayRefresh)
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.from401 = tok.AccessToken
		h.mu.Unlock()
		return nil
	case resp.StatusCode == http.StatusForbidden && isInsufficientScope(resp):
		ch := challengeOf(resp)
		challenged := slices.Sorted(slices.Values(ch.Scope()))
		key := strings.Join(challenged, " ")
		h.mu.Lock()
		st := h.stepUps[key]
		h.mu.Unlock()
		n := 0
		if sent != nil && st.token == sent.AccessToken {
			n = st.n // the token a step-up for this challenge produced is refused again
		}
		if n >= t.cfg.maxAuthorizations() {
			return &InsufficientScopeError{ServerURL: t.serverURL, Scopes: ch.Scope(), Attempts: n}
		}
		var prev []string
		if sent != nil {
			prev = sent.Scope
		}
		tok, err := t.stepUp(ctx, ch, prev, sent)
		if err != nil {
			return err
		}
		h.mu.Lock()
		h.stepUps[key] = stepUpState{token: tok.AccessToken, n: n + 1}
		h.mu.Unlock()
		return nil
	}
	return nil
}

// sentToken returns the token req carried: the stored one when it is the
// same, nil when req carried none.
func (h *OAuthHandler) sentToken(ctx context.Context, req *http.Request) (*token.Token, error) {
	scheme, value, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
		return nil, nil
	}
	rec, err := h.t.current(ctx)
	if err != nil {
		return nil, err
	}
	if rec != nil && rec.Token != nil && rec.Token.AccessToken == value {
		return rec.Token, nil
	}
	return &token.Token{Token: oauth2.Token{AccessToken: value}}, nil
}
