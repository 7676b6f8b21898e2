package authserver

import (
	"context"
	"errors"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// GetClientByClientID finds a registered client, or fetches the client ID
// metadata document when the id is a URL. An unknown client is
// invalid_client, not a server error.
func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *storage) client(ctx context.Context, id string) (*client, error) {
	if isCIMDClientID(id) {
		c, err := s.resolveCIMD(ctx, id)
		if err != nil {
			return nil, oidc.ErrInvalidClient().WithDescription("client metadata document: %v", err)
		}
		return c, nil
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return c, nil
}

// AuthorizeClientIDSecret checks client_secret_basic / client_secret_post
// credentials.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if !c.checkSecret(secret) {
		return oidc.ErrInvalidClient().WithDescription("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	s.fillUserinfo(info, req.GetSubject(), scopes)
	return nil
}

// SetUserinfoFromToken serves the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	rec, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || rec.revoked || time.Now().After(rec.expires) {
		return errors.New("access token not active")
	}
	s.fillUserinfo(info, subject, rec.scopes)
	return nil
}

func (s *storage) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) {
	info.Subject = subject
	for _, sc := range scopes {
		if sc == ScopeProfile {
			info.Name = s.cfg.UserName
			info.PreferredUsername = s.cfg.Subject
		}
	}
}

// SetIntrospectionFromToken backs op's RFC 7662 endpoint.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	rec, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || rec.revoked || time.Now().After(rec.expires) {
		return errors.New("access token not active")
	}
	resp.Active = true
	resp.Subject = subject
	resp.ClientID = rec.clientID
	resp.Scope = oidc.SpaceDelimitedArray(rec.scopes)
	resp.Audience = rec.audience
	resp.Expiration = oidc.FromTime(rec.expires)
	return nil
}

// GetPrivateClaimsFromScopes: see GetPrivateClaimsFromRequest.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest adds the RFC 9068 §2.2.3 "scope" claim to the
// JWT access token, which op leaves out.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(req.GetScopes(), " ")}, nil
}

// GetKeyByIDAndClientID: private_key_jwt is not supported.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt not supported")
}

// ValidateJWTProfileScopes: the JWT bearer grant is not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("jwt-bearer grant not supported")
}

// SigningKey is the RS256 key for ID and access tokens.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms lists RS256 only.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is the public JWKS.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// Health always reports ready.
func (s *storage) Health(context.Context) error { return nil }
