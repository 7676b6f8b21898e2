package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// authorize runs the whole flow, each step a function of the last one's
// result: discovery → registration → authorization → token → store.
// ch is the challenge that triggered it; prev, for a step-up, the scopes
// requested before.
func (t *Transport) authorize(ctx context.Context, ch discovery.Challenge, prev []string) (*token.Token, error) {
	found := t.cachedDiscovery(ch, prev)
	if found == nil {
		var err error
		if found, err = t.discover(ctx, ch.ResourceMetadata()); err != nil {
			return nil, err
		}
	}
	if t.cfg.Grant != nil {
		return t.authorizeGrant(ctx, found, ch, prev)
	}
	if t.cfg.Step == nil {
		return nil, &LoginRequiredError{ServerURL: t.serverURL, Reason: "no interactive step is configured to authorize with " + found.server.Issuer}
	}
	key := store.Key{Resource: t.serverURL, Issuer: found.server.Issuer}
	stored, err := t.store.Load(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("mcpauth: reading the credential store: %w", err)
	}

	// A stored registration that the server no longer accepts is replaced
	// once (issue: stale registrations must never leave the user stuck).
	// Each attempt has its own session: a session receives one redirect.
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		session, err := t.cfg.Step.Start(ctx, preferredRedirect(stored, t.cfg.PreRegistered[found.server.Issuer]))
		if err != nil {
			return nil, fmt.Errorf("mcpauth: starting the authorization step: %w", err)
		}
		tok, rec, err := t.authorizeOnce(ctx, found, ch, prev, stored, session, attempt > 0)
		session.Close()
		if err == nil {
			t.setCurrent(rec)
			return tok, nil
		}
		lastErr = err
		if !staleRegistration(err) || stored == nil || stored.Client == nil || stored.Client.Kind != registration.Dynamic {
			break
		}
		t.log.Debug("mcpauth: the stored registration was refused; registering again", "issuer", found.server.Issuer, "err", err)
	}
	return nil, lastErr
}

// discovered is what discovery found.
type discovered struct {
	resource *discovery.ResourceMetadata // nil for a 2025-03-26 server (PRM-5)
	server   *discovery.ServerMetadata
	// canonical is the resource parameter value (RES-1).
	canonical string
}

// discoveryTTL bounds how long stored discovery results are reused.
const discoveryTTL = time.Hour

// cachedDiscovery returns the discovery results of the record in use for a
// step-up (prev set), when they are recent and the challenge points at the
// same resource metadata. A 401 always discovers afresh: it may mean the
// resource moved to another authorization server (AS-2).
func (t *Transport) cachedDiscovery(ch discovery.Challenge, prev []string) *discovered {
	if len(prev) == 0 {
		return nil
	}
	t.mu.RLock()
	rec := t.cur
	t.mu.RUnlock()
	if rec == nil || rec.ServerMetadata == nil || rec.CanonicalResource == "" || t.now().Sub(rec.DiscoveredAt) > discoveryTTL {
		return nil
	}
	if hint := ch.ResourceMetadata(); hint != "" && (rec.ResourceMetadata == nil || rec.ResourceMetadata.URL != hint) {
		return nil
	}
	return &discovered{resource: rec.ResourceMetadata, server: rec.ServerMetadata, canonical: rec.CanonicalResource}
}

// discover finds the protected resource metadata and the authorization
// server metadata (PRM-1..5, ASM-1..3, AS-1), and checks PKCE support
// (PKCE-1).
func (t *Transport) discover(ctx context.Context, hint string) (*discovered, error) {
	prm, err := t.fetcher.ResourceMetadata(ctx, t.serverURL, hint)
	var d discovered
	switch {
	case err == nil:
		d.resource, d.canonical = prm, prm.Resource
		t.emit(Event{Kind: EventResourceMetadata, ResourceMetadata: prm,
			Message: fmt.Sprintf("protected resource metadata found at %s: resource %s, authorization servers %q, scopes %q", prm.URL, prm.Resource, prm.AuthorizationServers, prm.ScopesSupported)})
		if len(prm.AuthorizationServers) == 0 {
			return nil, &discovery.DocumentError{Document: "protected resource metadata", URL: prm.URL, Reason: "it lists no authorization_servers, so there is nowhere to authorize"}
		}
		d.server, err = t.chooseServer(ctx, prm.AuthorizationServers)
		if err != nil {
			return nil, err
		}
	case errors.Is(err, discovery.ErrNoResourceMetadata):
		// PRM-5: a 2025-03-26 server is its own authorization server.
		d.canonical = canonicalURL(t.serverURL)
		origin, oerr := discovery.Origin(t.serverURL)
		if oerr != nil {
			return nil, oerr
		}
		t.emit(Event{Kind: EventResourceMetadata, Message: "no protected resource metadata; treating the server's origin " + origin + " as its authorization server (MCP 2025-03-26 compatibility)"})
		d.server, err = t.fetcher.ServerMetadata(ctx, origin)
		if errors.Is(err, discovery.ErrNoServerMetadata) {
			d.server, err = discovery.DefaultServerMetadata(t.serverURL)
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	md := d.server
	if md.Synthesized {
		t.emit(Event{Kind: EventServerMetadata, ServerMetadata: md, Message: "no authorization server metadata; using the default endpoints " + md.AuthorizationEndpoint + ", " + md.TokenEndpoint + ", " + md.RegistrationEndpoint})
	} else {
		t.emit(Event{Kind: EventServerMetadata, ServerMetadata: md, Message: fmt.Sprintf("authorization server metadata for %s found at %s", md.Issuer, md.URL)})
	}
	if t.cfg.Grant != nil {
		// A grant with no person (client credentials, JWT bearer) needs
		// the token endpoint only: PKCE and the authorization endpoint
		// belong to the authorization code flow, and servers for these
		// grants may publish neither.
		if md.TokenEndpoint == "" {
			return nil, &discovery.DocumentError{Document: "authorization server metadata", URL: md.URL, Reason: "it has no token_endpoint"}
		}
		return &d, nil
	}
	if !md.SupportsPKCE() {
		return nil, &PKCEUnsupportedError{Issuer: md.Issuer, MetadataURL: md.URL, Methods: md.CodeChallengeMethodsSupported}
	}
	if md.AuthorizationEndpoint == "" {
		return nil, &discovery.DocumentError{Document: "authorization server metadata", URL: md.URL, Reason: "it has no authorization_endpoint"}
	}
	return &d, nil
}

// authorizeOnce registers if needed, runs the authorization request and
// the code exchange, and stores the result.
func (t *Transport) authorizeOnce(ctx context.Context, d *discovered, ch discovery.Challenge, prev []string, stored *store.Record, session authorize.Session, forceRegister bool) (*token.Token, *store.Record, error) {
	md := d.server
	meta := t.clientMetadata(session.RedirectURI())

	// The scope decision needs the grant types of the client that will
	// make the request, and a stored registration must cover that scope.
	var storedClient *registration.Client
	if stored != nil && !forceRegister {
		storedClient = stored.Client
	}
	grants := t.grantTypesFor(md.Issuer, meta)
	input := t.scopeInput(d, ch, prev, grants)
	sel := scope.Select(input)
	client, _, err := t.clientFor(ctx, md, storedClient, meta, sel.Scopes, session.RedirectURI())
	if err != nil {
		return nil, nil, err
	}
	// The client used may hold other grant types than assumed: a stored
	// or fresh registration records what the server granted.
	if !slices.Equal(client.GrantTypes, grants) {
		input.GrantTypes = t.scopeGrants(client.GrantTypes)
		sel = scope.Select(input)
	}
	t.emit(Event{Kind: EventScope, Scope: &sel, Message: describeSelection(sel)})

	req := authorize.New()
	req.Endpoint = md.AuthorizationEndpoint
	req.Issuer = md.Issuer
	req.IssParameterSupported = md.AuthorizationResponseIssParameterSupported
	req.ClientID = client.ID
	req.RedirectURI = session.RedirectURI()
	req.Scopes = sel.Scopes
	req.Resource = d.canonical
	if sel.PromptConsent() {
		req.Prompt = "consent" // REF-4
	}
	authURL, err := req.URL()
	if err != nil {
		return nil, nil, err
	}
	code, err := session.Wait(ctx, authURL, req.Verify)
	if err != nil {
		return nil, nil, fmt.Errorf("mcpauth: authorization at %s: %w", md.Issuer, err)
	}
	t.emit(Event{Kind: EventAuthorization, Message: "authorization code received; state and iss verified"})

	ep, err := t.endpoint(md, client)
	if err != nil {
		return nil, nil, err
	}
	tok, err := ep.Exchange(ctx, code, req.Verifier, req.RedirectURI, d.canonical, sel.Scopes)
	if err != nil {
		return nil, nil, fmt.Errorf("mcpauth: exchanging the authorization code: %w", err)
	}
	t.dropRefreshTokenIfDisabled(tok)
	t.emit(Event{Kind: EventToken, Token: describeToken(tok, t), Message: tokenMessage("access token received", tok, t)})

	rec, err := t.saveGrant(ctx, d, client, tok, sel.Scopes)
	if err != nil {
		return nil, nil, err
	}
	return tok, rec, nil
}

// authorizeGrant obtains a token with the configured Grant, with no
// person: discovery and scope selection as usual, then the grant at the
// token endpoint, then the store.
func (t *Transport) authorizeGrant(ctx context.Context, d *discovered, ch discovery.Challenge, prev []string) (*token.Token, error) {
	md := d.server
	key := store.Key{Resource: t.serverURL, Issuer: md.Issuer}
	stored, err := t.store.Load(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("mcpauth: reading the credential store: %w", err)
	}
	meta := t.clientMetadata("")
	var storedClient *registration.Client
	if stored != nil {
		storedClient = stored.Client
	}
	grants := t.grantTypesFor(md.Issuer, meta)
	input := t.scopeInput(d, ch, prev, grants)
	sel := scope.Select(input)
	client, _, err := t.clientFor(ctx, md, storedClient, meta, sel.Scopes, "")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(client.GrantTypes, grants) {
		input.GrantTypes = t.scopeGrants(client.GrantTypes)
		sel = scope.Select(input)
	}
	t.emit(Event{Kind: EventScope, Scope: &sel, Message: describeSelection(sel)})
	ep, err := t.endpoint(md, client)
	if err != nil {
		return nil, err
	}
	tok, err := t.cfg.Grant.Token(ctx, GrantRequest{Endpoint: ep, Server: md, Client: client, Resource: d.canonical, Scopes: sel.Scopes})
	if err != nil {
		return nil, fmt.Errorf("mcpauth: token request at %s: %w", md.Issuer, err)
	}
	t.dropRefreshTokenIfDisabled(tok)
	t.emit(Event{Kind: EventToken, Token: describeToken(tok, t), Message: tokenMessage("access token received", tok, t)})
	rec, err := t.saveGrant(ctx, d, client, tok, sel.Scopes)
	if err != nil {
		return nil, err
	}
	t.setCurrent(rec)
	return tok, nil
}

// dropRefreshTokenIfDisabled forgets a refresh token the server issued
// although none was asked for (REF-5), when the client was configured
// not to keep refresh tokens (Config.DisableRefreshTokens).
func (t *Transport) dropRefreshTokenIfDisabled(tok *token.Token) {
	if t.cfg.DisableRefreshTokens {
		tok.RefreshToken = ""
	}
}

// saveGrant stores a newly obtained grant with what discovery found.
func (t *Transport) saveGrant(ctx context.Context, d *discovered, client *registration.Client, tok *token.Token, requested []string) (*store.Record, error) {
	rec, err := t.store.Update(ctx, store.Key{Resource: t.serverURL, Issuer: d.server.Issuer}, func(r *store.Record) (*store.Record, error) {
		if r == nil {
			r = &store.Record{}
		}
		r.CanonicalResource = d.canonical
		r.Token = tok
		r.Client = client
		r.ResourceMetadata = d.resource
		r.ServerMetadata = d.server
		r.DiscoveredAt = t.now()
		r.RequestedScopes = requested
		r.UpdatedAt = t.now()
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mcpauth: saving credentials: %w", err)
	}
	return rec, nil
}

// endpoint returns the token endpoint for client at the server md.
func (t *Transport) endpoint(md *discovery.ServerMetadata, client *registration.Client) (*token.Endpoint, error) {
	auth := token.AuthFor(client, md.TokenEndpointAuthMethodsSupported)
	if t.cfg.ClientAuth != nil {
		var err error
		if auth, err = t.cfg.ClientAuth(client, md); err != nil {
			return nil, fmt.Errorf("mcpauth: client authentication for %s: %w", md.Issuer, err)
		}
	}
	return &token.Endpoint{
		URL:     md.TokenEndpoint,
		Issuer:  md.Issuer,
		Auth:    auth,
		Client:  t.hc,
		Now:     t.cfg.Now,
		Timeout: t.cfg.Timeout,
	}, nil
}

// staleRegistration reports a token or registration error that means the
// server no longer accepts a stored client for this request.
func staleRegistration(err error) bool {
	var te *token.Error
	if errors.As(err, &te) {
		switch te.Code {
		case "invalid_client", "unauthorized_client", "invalid_scope":
			return true
		}
	}
	var ae *authorize.ServerError
	if errors.As(err, &ae) {
		switch ae.Code {
		case "invalid_client", "unauthorized_client", "invalid_scope":
			return true
		}
	}
	return false
}

// scopeInput gathers what scope selection decides from.
func (t *Transport) scopeInput(d *discovered, ch discovery.Challenge, prev, grants []string) scope.Input {
	return scope.Input{
		Challenge:      ch.Scope(),
		Previous:       prev,
		ResourceScopes: resourceScopes(d.resource),
		ServerScopes:   d.server.ScopesSupported,
		Configured:     scope.Union(t.cfg.Scopes, scope.Parse(t.cfg.Client.Scope)),
		GrantTypes:     t.scopeGrants(grants),
	}
}

// scopeGrants returns the grant types scope selection may count on:
// without refresh_token when refresh tokens are disabled, whatever a
// pre-registered client declares or a server registered, so that
// offline_access is never requested then (Config.DisableRefreshTokens).
func (t *Transport) scopeGrants(grants []string) []string {
	if !t.cfg.DisableRefreshTokens {
		return grants
	}
	return slices.DeleteFunc(slices.Clone(grants), func(g string) bool { return g == registration.GrantRefreshToken })
}

func resourceScopes(prm *discovery.ResourceMetadata) []string {
	if prm == nil {
		return nil
	}
	return prm.ScopesSupported
}

func preferredRedirect(stored *store.Record, pre PreRegisteredClient) string {
	if pre.RedirectURI != "" {
		return pre.RedirectURI
	}
	if stored != nil && stored.Client != nil && len(stored.Client.RedirectURIs) > 0 {
		return stored.Client.RedirectURIs[0]
	}
	return ""
}

// canonicalURL lower-cases the scheme and host of a URL, for a server that
// publishes no resource identifier of its own.
func canonicalURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		j = len(rest)
	}
	return strings.ToLower(raw[:i+3]+rest[:j]) + rest[j:]
}

func describeSelection(sel scope.Selection) string {
	var rule string
	switch sel.Source {
	case scope.FromChallenge:
		rule = "the scope of the server's WWW-Authenticate challenge (SCP-1)"
	case scope.FromStepUp:
		rule = "the scopes requested before united with the challenged ones (STEP-1)"
	case scope.FromResourceMetadata:
		rule = "all of the resource metadata's scopes_supported (SCP-1)"
	case scope.FromConfigured:
		rule = "the scope configured for the client (SCP-1 fallback)"
	default:
		return "no scope known: the scope parameter is omitted (SCP-1)"
	}
	msg := fmt.Sprintf("requesting scope %q, chosen from %s", sel.String(), rule)
	if sel.OfflineAccessAdded {
		msg += "; offline_access added because the authorization server offers it and the client holds the refresh_token grant (SEP-2207), with prompt=consent"
	}
	if sel.OfflineAccessDropped {
		msg += "; offline_access removed because the authorization server does not offer it or the client cannot use refresh tokens"
	}
	return msg
}

func describeToken(tok *token.Token, t *Transport) *TokenInfo {
	info := &TokenInfo{Type: tok.TokenType, Scope: tok.Scope, HasRefreshToken: tok.RefreshToken != "", Issuer: tok.Issuer}
	if !tok.Expiry.IsZero() {
		info.ExpiresIn = int64(tok.Expiry.Sub(t.now()).Round(1e9).Seconds())
	}
	return info
}

func tokenMessage(prefix string, tok *token.Token, t *Transport) string {
	info := describeToken(tok, t)
	msg := fmt.Sprintf("%s from %s: scope %q", prefix, tok.Issuer, scope.Join(tok.Scope))
	if info.ExpiresIn > 0 {
		msg += fmt.Sprintf(", expires in %ds", info.ExpiresIn)
	}
	if info.HasRefreshToken {
		return msg + ", with a refresh token"
	}
	return msg + ", without a refresh token"
}
