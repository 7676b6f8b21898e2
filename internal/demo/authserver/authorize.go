package authserver

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authorizer is op's Authorizer with this server's validation
// (op.AuthorizeValidator) in front of op's own.
type authorizer struct {
	*op.Provider
	s *Server
}

// ValidateAuthRequest implements op.AuthorizeValidator.
func (a authorizer) ValidateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ op.Storage, v *op.IDTokenHintVerifier) (string, error) {
	return a.s.validateAuthRequest(ctx, req, v)
}

// handleAuthorize is the authorization endpoint (RFC 6749 §3.1). op parses,
// validates and stores the request and redirects to the consent page; in
// headless mode the request is approved on the spot and the response goes
// straight to the client. Every response to the client carries iss.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s.stats.add(func(st *Stats) { st.AuthorizationRequests++ })
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed authorization request", http.StatusBadRequest)
		return
	}
	ex := &authorizeExtras{rawResources: r.Form["resource"]}
	r = r.WithContext(withExtras(r.Context(), ex))
	buf := newBufferedResponse()
	op.Authorize(buf, r, s.authz)
	if id, ok := s.consentRedirect(buf); ok && s.cfg.AutoApprove {
		buf = newBufferedResponse()
		s.approveAndRespond(buf, r, id)
	}
	s.flushWithIss(w, buf)
}

// consentRedirect reports whether op sent the browser to the consent page,
// and for which request.
func (s *Server) consentRedirect(b *bufferedResponse) (string, bool) {
	loc := b.location()
	if !strings.HasPrefix(loc, s.issuer+"/login?") {
		return "", false
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	id := u.Query().Get("id")
	return id, id != ""
}

// approveAndRespond records consent and writes the code response.
func (s *Server) approveAndRespond(w http.ResponseWriter, r *http.Request, id string) {
	a, err := s.store.approve(id)
	if err != nil {
		http.Error(w, "unknown, expired or already answered authorization request", http.StatusBadRequest)
		return
	}
	s.log.Info("authorization approved", slog.String("client_id", a.clientID), slog.Any("scopes", a.scopes), slog.String("resource", a.resource))
	op.AuthResponse(a, s.authz, w, r)
}

// validateAuthRequest checks, in order: the client and its redirect URI
// (errors here are shown, not redirected: RFC 6749 §4.1.2.1), then response
// mode, resource (RFC 8707 §2), scope against the client's registered scope,
// PKCE S256 (OAuth 2.1 §4.1.1: required for public clients), op's checks,
// and finally offline_access (OpenID Connect Core §11).
func (s *Server) validateAuthRequest(ctx context.Context, req *oidc.AuthRequest, v *op.IDTokenHintVerifier) (string, error) {
	c, err := s.store.client(ctx, req.ClientID)
	if err != nil {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client").WithParent(err)
	}
	if !redirectAllowed(c, req.RedirectURI) {
		return "", oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		req.ResponseMode = ""
		return "", oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	ex := extrasFrom(ctx)
	resource, err := s.store.checkResource(ex.rawResources)
	if err != nil {
		return "", err
	}
	if len(req.Scopes) == 0 {
		req.Scopes = s.cfg.DefaultScopes
		if c.allowedScopes != nil {
			req.Scopes = c.allowedScopes
		}
	}
	if c.allowedScopes != nil {
		for _, sc := range req.Scopes {
			if !slices.Contains(c.allowedScopes, sc) {
				return "", oidc.ErrInvalidScope().WithDescription("scope %q is not in the scope registered for this client", sc)
			}
		}
	}
	if req.CodeChallenge == "" && c.public() {
		return "", oidc.ErrInvalidRequest().WithDescription("code_challenge is required (PKCE, S256)")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return "", oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	sub, err := op.ValidateAuthRequestClient(ctx, req, c, v)
	if err != nil {
		return "", err
	}
	req.Scopes = slices.DeleteFunc(req.Scopes, func(sc string) bool { return !slices.Contains(c.knownScopes, sc) })
	if slices.Contains(req.Scopes, ScopeOfflineAccess) {
		if ex.offlineNote = s.offlineRefusal(c, req); ex.offlineNote != "" {
			req.Scopes = slices.DeleteFunc(req.Scopes, func(sc string) bool { return sc == ScopeOfflineAccess })
		}
	}
	if len(req.Scopes) == 0 {
		return "", oidc.ErrInvalidScope().WithDescription("no requested scope can be granted")
	}
	ex.resource = resource
	return sub, nil
}

// offlineRefusal says why offline_access is not granted, or "" if it is.
// Like oidc-provider, the server follows OpenID Connect Core §11: without
// prompt=consent the scope is ignored.
func (s *Server) offlineRefusal(c *client, req *oidc.AuthRequest) string {
	switch {
	case s.cfg.DisableRefreshTokens:
		return "refresh tokens are disabled on this server"
	case !c.hasGrant(oidc.GrantTypeRefreshToken):
		return "the client is not registered for the refresh_token grant"
	case !slices.Contains(req.Prompt, oidc.PromptConsent):
		return "the request did not carry prompt=consent (OpenID Connect Core §11)"
	}
	return ""
}
