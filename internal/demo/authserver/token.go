package authserver

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// handleToken is the token endpoint (RFC 6749 §3.2) for the
// authorization_code and refresh_token grants. Parsing, client
// authentication, PKCE, code and refresh token validation and token signing
// are op's; this handler adds RFC 8707 resource checks, single-use codes and
// an ID token only when openid was granted.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil {
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("malformed form"), nil)
		return
	}
	grant := r.PostForm.Get("grant_type")
	s.stats.add(func(st *Stats) { st.TokenRequests[grant]++ })
	switch oidc.GrantType(grant) {
	case oidc.GrantTypeCode:
		s.codeGrant(w, r)
	case oidc.GrantTypeRefreshToken:
		if s.cfg.DisableRefreshTokens {
			op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are disabled"), nil)
			return
		}
		s.refreshGrant(w, r)
	case "":
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("grant_type missing"), nil)
	default:
		op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("grant_type %q is not supported", grant), nil)
	}
}

// codeGrant exchanges an authorization code (RFC 6749 §4.1.3). A resource
// sent here must be the one authorized, or bind one if none was.
func (s *Server) codeGrant(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := op.ParseAccessTokenRequest(r, s.provider.Decoder())
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	if req.Code == "" {
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("code missing"), nil)
		return
	}
	resource, err := s.store.checkResource(r.PostForm["resource"])
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	ar, client, err := op.ValidateAccessTokenRequest(ctx, req, s.provider)
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	a := ar.(*authRequest)
	if resource != "" && a.resource != "" && resource != a.resource {
		op.RequestError(w, r, invalidTarget("resource differs from the one authorized"), nil)
		return
	}
	if !s.store.consumeCode(req.Code) {
		op.RequestError(w, r, oidc.ErrInvalidGrant().WithDescription("authorization code already used"), nil)
		return
	}
	if a.resource == "" {
		a.resource = resource
	}
	resp, err := s.issue(ctx, a, client, req.Code, "")
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	_ = s.store.DeleteAuthRequest(ctx, a.id)
	s.logIssued(ctx, "authorization_code", client, resp, a.GetAudience())
	writeJSON(w, http.StatusOK, resp)
}

// refreshGrant refreshes (RFC 6749 §6). Without resource the original
// audience is kept; with one, it must match the grant's (RFC 8707 §2.2).
func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := op.ParseRefreshTokenRequest(r, s.provider.Decoder())
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	resource, err := s.store.checkResource(r.PostForm["resource"])
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	rr, client, err := op.ValidateRefreshTokenRequest(ctx, req, s.provider)
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	ref := rr.(*refreshRequest)
	if resource != "" {
		if ref.resource != "" && ref.resource != resource {
			op.RequestError(w, r, invalidTarget("resource differs from the one authorized"), nil)
			return
		}
		ref.resource = resource
	}
	resp, err := s.issue(ctx, ref, client, "", req.RefreshToken)
	if err != nil {
		op.RequestError(w, r, err, nil)
		return
	}
	s.logIssued(ctx, "refresh_token", client, resp, ref.GetAudience())
	writeJSON(w, http.StatusOK, resp)
}

// tokenSource is what both grants hand to issue.
type tokenSource interface {
	op.TokenRequest
	op.IDTokenRequest
}

// issue is op.CreateTokenResponse with two changes: the ID token's audience
// is the client (the access token's is the resource), and an ID token is
// only issued when openid was granted (OpenID Connect Core §3.1.2.1).
func (s *Server) issue(ctx context.Context, req tokenSource, client op.Client, code, refreshToken string) (*oidc.AccessTokenResponse, error) {
	at, rt, validity, err := op.CreateAccessToken(ctx, req, op.AccessTokenTypeJWT, s.provider, client, refreshToken)
	if err != nil {
		return nil, err
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken:  at,
		RefreshToken: rt,
		TokenType:    oidc.BearerToken,
		ExpiresIn:    uint64(math.Round(validity.Seconds())),
		Scope:        req.GetScopes(),
	}
	if slices.Contains(req.GetScopes(), ScopeOpenID) {
		var view op.IDTokenRequest = idTokenView{req}
		if a, ok := req.(*authRequest); ok {
			view = idTokenAuthView{a}
		}
		resp.IDToken, err = op.CreateIDToken(ctx, op.IssuerFromContext(ctx), view, client.IDTokenLifetime(), at, code, s.store, client)
		if err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// idTokenView gives the ID token the client as audience (OpenID Connect
// Core §2).
type idTokenView struct{ op.IDTokenRequest }

func (v idTokenView) GetAudience() []string { return []string{v.GetClientID()} }

// idTokenAuthView is idTokenView for the code flow, where op reads the
// nonce from the op.AuthRequest.
type idTokenAuthView struct{ *authRequest }

func (v idTokenAuthView) GetAudience() []string { return []string{v.clientID} }

func (s *Server) logIssued(ctx context.Context, grant string, c op.Client, resp *oidc.AccessTokenResponse, aud []string) {
	s.log.InfoContext(ctx, "tokens issued", slog.String("grant_type", grant), slog.String("client_id", c.GetID()),
		slog.Any("scope", resp.Scope), slog.Any("aud", aud), slog.Bool("refresh_token", resp.RefreshToken != ""),
		slog.Uint64("expires_in", resp.ExpiresIn))
}
