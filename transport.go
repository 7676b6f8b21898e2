package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/replay"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// Transport is an http.RoundTripper that authorizes requests to one MCP
// server. It attaches the access token (TOK-1), refreshes it before it
// expires, authorizes on 401, steps up on 403 insufficient_scope, and
// retries the request once authorized, body included.
//
// Requests to other origins pass through untouched: a token is only ever
// sent to the server it was issued for (TOK-2).
type Transport struct {
	serverURL string
	origin    string
	scheme    string // of serverURL, as written
	host      string // of serverURL, as written

	authCache atomic.Pointer[authValue]
	cfg       Config
	base      http.RoundTripper
	hc        *http.Client
	store     store.Store
	fetcher   *discovery.Fetcher
	log       *slog.Logger

	mu     sync.RWMutex
	cur    *store.Record // the record in use; nil until loaded or authorized
	loaded bool

	flight singleflight.Group
}

// NewTransport returns a transport for the MCP server at serverURL.
func NewTransport(serverURL string, cfg Config) (*Transport, error) {
	u, err := urlcheck.HTTPSOrLoopback("MCP server URL", serverURL)
	if err != nil {
		return nil, err
	}
	t := &Transport{
		serverURL: serverURL,
		origin:    urlcheck.Origin(u),
		scheme:    u.Scheme,
		host:      u.Host,
		cfg:       cfg,
		base:      cfg.Base,
		hc:        cfg.HTTPClient,
		store:     cfg.Store,
		log:       cfg.Logger,
	}
	if cfg.Network != nil {
		if cfg.Base != nil || cfg.HTTPClient != nil {
			return nil, errors.New("mcpauth: Config.Network cannot be combined with Base or HTTPClient; build those over Network.Transport() instead")
		}
		t.base = cfg.Network.Transport()
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.hc == nil {
		t.hc = &http.Client{Transport: t.base, Timeout: 30 * time.Second}
	}
	if t.store == nil {
		t.store = store.NewMemory()
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.fetcher = &discovery.Fetcher{Client: t.hc, Timeout: cfg.Timeout, Trace: func(p discovery.Probe) {
		t.log.Debug("mcpauth: discovery probe", "document", p.Document, "url", p.URL, "status", p.Status, "err", p.Err)
	}}
	return t, nil
}

// ServerURL returns the MCP server URL the transport authorizes for.
func (t *Transport) ServerURL() string { return t.serverURL }

// Client returns an *http.Client that uses the transport.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

func (t *Transport) now() time.Time {
	if t.cfg.Now != nil {
		return t.cfg.Now()
	}
	return time.Now()
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.forServer(req.URL) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	req, err := replay.Request(req)
	if err != nil {
		return nil, fmt.Errorf("mcpauth: reading request body: %w", err)
	}
	tok, err := t.tokenForRequest(ctx)
	if err != nil {
		return nil, err
	}
	var prevScopes []string
	refused := false // a 401 of this request was handled already
	for attempt := 0; ; attempt++ {
		resp, err := t.send(req, tok, attempt)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			if attempt >= t.cfg.maxAuthorizations() || (tok != nil && isDPoPNonce(resp)) {
				return resp, nil
			}
			if err := challengeTooLarge(resp); err != nil {
				discard(resp)
				return nil, fmt.Errorf("mcpauth: %s answered 401 with a challenge that cannot be used: %w", t.serverURL, err)
			}
			ch := challengeOf(resp)
			discard(resp)
			if tok, err = t.unauthorized(ctx, ch, tok, !refused); err != nil {
				return nil, err
			}
			refused = true
		case resp.StatusCode == http.StatusForbidden && isInsufficientScope(resp):
			ch := challengeOf(resp)
			if attempt >= t.cfg.maxAuthorizations() {
				discard(resp)
				return nil, &InsufficientScopeError{ServerURL: t.serverURL, Scopes: ch.Scope(), Attempts: attempt}
			}
			discard(resp)
			if tok, err = t.stepUp(ctx, ch, prevScopes, tok); err != nil {
				return nil, err
			}
		default:
			return resp, nil
		}
		prevScopes = tok.Scope
	}
}

// send sends a copy of req carrying tok, with a fresh body.
// The first attempt sends req's own body; a retry rewinds it with GetBody.
func (t *Transport) send(req *http.Request, tok *token.Token, attempt int) (*http.Response, error) {
	r := new(http.Request)
	*r = *req
	r.Header = req.Header.Clone()
	if attempt > 0 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("mcpauth: rewinding request body: %w", err)
		}
		r.Body = body
	}
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	if tok != nil {
		r.Header["Authorization"] = []string{t.authorization(tok)}
	} else {
		delete(r.Header, "Authorization")
	}
	return t.base.RoundTrip(r)
}

// authValue caches the Authorization header value of one token, so the
// hot path does not build the same string for every request.
type authValue struct {
	tok   *token.Token
	value string
}

// authorization returns the Authorization header value for tok.
func (t *Transport) authorization(tok *token.Token) string {
	if c := t.authCache.Load(); c != nil && c.tok == tok {
		return c.value
	}
	v := authScheme(tok) + " " + tok.AccessToken
	t.authCache.Store(&authValue{tok: tok, value: v})
	return v
}

// authScheme returns the Authorization scheme for tok: DPoP for a
// DPoP-bound token (RFC 9449 §7.1), Bearer otherwise (RFC 6750 §2.1,
// TOK-1). A lower-case "bearer" token_type still yields "Bearer".
func authScheme(tok *token.Token) string {
	if strings.EqualFold(tok.TokenType, "DPoP") {
		return "DPoP"
	}
	return "Bearer"
}

// forServer reports whether u is on the MCP server's origin.
func (t *Transport) forServer(u *url.URL) bool {
	if u == nil {
		return false
	}
	if u.Scheme == t.scheme && u.Host == t.host {
		return true // the common case, without building strings
	}
	return urlcheck.Origin(u) == t.origin
}

func challengeOf(resp *http.Response) discovery.Challenge {
	cs, _ := discovery.ParseResponse(resp) // a malformed tail still yields the challenges before it
	c, _ := cs.Bearer()
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	return c
}

// challengeTooLarge returns the error of a WWW-Authenticate header too
// large to act on (discovery.MaxChallengeBytes).
func challengeTooLarge(resp *http.Response) error {
	if _, err := discovery.ParseResponse(resp); errors.Is(err, discovery.ErrChallengeTooLarge) {
		return err
	}
	return nil
}

func isInsufficientScope(resp *http.Response) bool {
	return challengeOf(resp).Error() == "insufficient_scope"
}

// isDPoPNonce reports a 401 asking for a DPoP nonce (RFC 9449 §9): the
// token is fine and a new authorization would not help. The proof layer
// (ext/dpop) retries with the nonce; an answer that still asks for one is
// the caller's.
func isDPoPNonce(resp *http.Response) bool {
	cs, _ := discovery.ParseResponse(resp)
	for _, c := range cs {
		if c.HasScheme("DPoP") && c.Error() == "use_dpop_nonce" {
			return true
		}
	}
	return false
}

func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// tokenForRequest returns the token to send: the current one when fresh,
// else a refreshed one, else nil (the server's 401 then starts an
// authorization).
func (t *Transport) tokenForRequest(ctx context.Context) (*token.Token, error) {
	rec, err := t.current(ctx)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Token == nil {
		return nil, nil
	}
	if rec.Token.Fresh(t.now()) {
		return rec.Token, nil
	}
	if !rec.Token.CanRefresh() {
		return nil, nil
	}
	tok, err := t.refresh(ctx, rec)
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, errGrantGone):
		return nil, nil
	case t.now().Before(rec.Token.Expiry):
		// The refresh failed for a passing reason; the old token is still
		// valid for a little while.
		t.log.Debug("mcpauth: refresh failed, using the current token until it expires", "err", err)
		return rec.Token, nil
	}
	return nil, err
}

// current returns the record in use, loading it from the store on first
// use.
func (t *Transport) current(ctx context.Context) (*store.Record, error) {
	t.mu.RLock()
	rec, loaded := t.cur, t.loaded
	t.mu.RUnlock()
	if loaded {
		return rec, nil
	}
	_, err, _ := t.flight.Do("load", func() (any, error) {
		t.mu.RLock()
		loaded := t.loaded
		t.mu.RUnlock()
		if loaded {
			return nil, nil
		}
		rec, err := t.loadBest(ctx)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.cur, t.loaded = rec, true
		t.mu.Unlock()
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.cur, nil
}

// loadBest picks the stored record for this server to start from: one with
// a fresh token, else one that can refresh, else the newest.
func (t *Transport) loadBest(ctx context.Context) (*store.Record, error) {
	recs, err := t.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("mcpauth: reading the credential store: %w", err)
	}
	var best *store.Record
	rank := func(r *store.Record) int {
		switch {
		case r.Token.Fresh(t.now()):
			return 3
		case r.Token.CanRefresh():
			return 2
		case r.Token != nil:
			return 1
		}
		return 0
	}
	for _, r := range recs {
		if r.Resource != t.serverURL {
			continue
		}
		if best == nil || rank(r) > rank(best) || (rank(r) == rank(best) && r.UpdatedAt.After(best.UpdatedAt)) {
			best = r
		}
	}
	return best, nil
}

// setCurrent makes rec the record in use.
func (t *Transport) setCurrent(rec *store.Record) {
	t.mu.Lock()
	t.cur, t.loaded = rec, true
	t.mu.Unlock()
}

// unauthorized handles a 401. A token another request obtained
// meanwhile is used, also when this request went out without one.
// Otherwise a token that was sent and can be refreshed is refreshed first,
// since the server may simply consider it expired, but only on the first
// 401 of a request (mayRefresh): a refreshed token refused too means the
// grant is of no use here, for example because the server moved to
// another authorization server (AS-2). Otherwise, or when the refresh
// fails, the client authorizes afresh.
func (t *Transport) unauthorized(ctx context.Context, ch discovery.Challenge, sent *token.Token, mayRefresh bool) (*token.Token, error) {
	rec, _ := t.current(ctx)
	if rec != nil && rec.Token != nil && (sent == nil || rec.Token.AccessToken != sent.AccessToken) && rec.Token.Fresh(t.now()) {
		// Another request already replaced the token.
		return rec.Token, nil
	}
	if mayRefresh && sent != nil && sent.CanRefresh() && rec != nil && rec.Token != nil && rec.Token.AccessToken == sent.AccessToken {
		if tok, err := t.refresh(ctx, rec); err == nil {
			return tok, nil
		} else {
			t.log.Debug("mcpauth: refresh after 401 failed; authorizing", "err", err)
		}
	}
	return t.authorizeShared(ctx, ch, nil)
}

// stepUp handles a 403 insufficient_scope by authorizing again with the
// union of the scopes requested before and those challenged (STEP-1).
// When another request has stepped up meanwhile, so that the current
// token is not the one sent and already covers the challenged scopes, that
// token is used instead of a second authorization.
func (t *Transport) stepUp(ctx context.Context, ch discovery.Challenge, prev []string, sent *token.Token) (*token.Token, error) {
	rec, _ := t.current(ctx)
	if rec != nil && rec.Token != nil && sent != nil && rec.Token.AccessToken != sent.AccessToken &&
		rec.Token.Fresh(t.now()) && scope.Covers(rec.Token.Scope, ch.Scope()) {
		return rec.Token, nil
	}
	if rec != nil && len(rec.RequestedScopes) > 0 {
		prev = rec.RequestedScopes
	}
	t.emit(Event{Kind: EventStepUp, Message: fmt.Sprintf("server answered 403 insufficient_scope asking for %q; authorizing again with the union of scopes", ch.Scope())})
	return t.authorizeShared(ctx, ch, prev)
}

// authorizeShared runs one authorization for all concurrent callers.
func (t *Transport) authorizeShared(ctx context.Context, ch discovery.Challenge, prev []string) (*token.Token, error) {
	v, err, _ := t.flight.Do("authorize", func() (any, error) {
		return t.authorize(ctx, ch, prev)
	})
	if err != nil {
		return nil, err
	}
	return v.(*token.Token), nil
}
