package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// refreshRecord is one refresh token (stored under the hash of its value).
type refreshRecord struct {
	grantID  string
	clientID string
	subject  string
	scopes   []string
	resource string
	authTime time.Time
	expires  time.Time
	rotated  bool // already exchanged for a successor
	// successor is the tokenKey of the refresh token this one was
	// exchanged for.
	successor string
}

// grantRecord ties together the refresh tokens of one authorization.
type grantRecord struct {
	clientID string
	revoked  bool
}

// accessRecord remembers an issued JWT access token by its jti, for
// revocation and introspection. Resource servers verify the JWT locally.
type accessRecord struct {
	clientID string
	subject  string
	scopes   []string
	audience []string
	expires  time.Time
	revoked  bool
}

var errRevoked = errors.New("grant revoked")

func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateAccessToken records a new access token; op signs the JWT.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := s.newAccessLocked(req)
	return id, exp, nil
}

func (s *storage) newAccessLocked(req op.TokenRequest) (string, time.Time) {
	id := randomString(18)
	exp := time.Now().Add(s.atLifetime)
	rec := &accessRecord{subject: req.GetSubject(), scopes: slices.Clone(req.GetScopes()), audience: req.GetAudience(), expires: exp}
	if c, ok := req.(interface{ GetClientID() string }); ok {
		rec.clientID = c.GetClientID()
	}
	s.accessTokens[id] = rec
	s.stats.add(func(st *Stats) { st.AccessTokensIssued++ })
	return id, exp
}

// CreateAccessAndRefreshTokens issues a refresh token with the access token.
// For a refresh, the presented token is rotated (OAuth 2.1 §4.3.1) unless
// rotation is off; presenting an already rotated token revokes the whole
// grant (RFC 9700 §4.14.2).
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	var rec refreshRecord
	switch r := req.(type) {
	case *authRequest:
		s.grants[r.id] = &grantRecord{clientID: r.clientID}
		rec = refreshRecord{grantID: r.id, clientID: r.clientID, subject: r.subject,
			scopes: slices.Clone(r.scopes), resource: r.resource, authTime: r.authTime}
	case *refreshRequest:
		old, ok := s.refresh[tokenKey(current)]
		if !ok {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
		}
		if err := s.checkRefreshLocked(old); err != nil {
			return "", "", time.Time{}, err
		}
		if s.cfg.DisableRotation {
			id, exp := s.newAccessLocked(req)
			return id, current, exp, nil
		}
		if old.rotated {
			// A retry after a lost response (checkRefreshLocked allowed
			// it): the successor was never used, so abandon it.
			delete(s.refresh, old.successor)
			s.stats.add(func(st *Stats) { st.LostResponseRetries++ })
		}
		old.rotated = true
		rec = *old
		rec.rotated, rec.successor = false, ""
		rec.resource = r.resource // may have been bound on this request
	default:
		return "", "", time.Time{}, fmt.Errorf("unsupported token request %T", req)
	}
	rec.expires = time.Now().Add(s.cfg.RefreshTokenLifetime)
	token := randomString(32)
	s.refresh[tokenKey(token)] = &rec
	if _, ok := req.(*refreshRequest); ok && !s.cfg.DisableRotation {
		s.refresh[tokenKey(current)].successor = tokenKey(token)
	}
	s.stats.add(func(st *Stats) { st.RefreshTokensIssued++ })
	id, exp := s.newAccessLocked(req)
	return id, token, exp, nil
}

// checkRefreshLocked refuses revoked, expired and replayed refresh tokens;
// a replay revokes the grant. Unless StrictRotation is set, a rotated token
// whose successor was never presented is still accepted once more: the
// client most likely never received the response (a crash or a dropped
// connection), as providers with a reuse interval allow.
func (s *storage) checkRefreshLocked(r *refreshRecord) error {
	if g := s.grants[r.grantID]; g == nil || g.revoked {
		return oidc.ErrInvalidGrant().WithDescription("refresh token revoked").WithParent(errRevoked)
	}
	if time.Now().After(r.expires) {
		return oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	if r.rotated && !s.cfg.StrictRotation {
		if succ := s.refresh[r.successor]; succ != nil && !succ.rotated {
			return nil
		}
	}
	if r.rotated {
		s.stats.add(func(st *Stats) { st.GrantsRevokedForReuse++ })
		s.revokeGrantLocked(r.grantID, "rotated refresh token reused")
		return oidc.ErrInvalidGrant().WithDescription("refresh token already used; grant revoked").WithParent(errRevoked)
	}
	return nil
}

// TokenRequestByRefreshToken resolves a refresh token for op's refresh
// grant handling.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[tokenKey(token)]
	if !ok {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	}
	if err := s.checkRefreshLocked(r); err != nil {
		return nil, err
	}
	return &refreshRequest{
		grantID: r.grantID, clientID: r.clientID, subject: r.subject, authTime: r.authTime,
		grantScopes: slices.Clone(r.scopes), resource: r.resource, defaultAudience: s.cfg.DefaultResource,
	}, nil
}

func (s *storage) revokeGrantLocked(grantID, why string) {
	g, ok := s.grants[grantID]
	if !ok {
		g = &grantRecord{}
		s.grants[grantID] = g
	}
	if g.revoked {
		return
	}
	g.revoked = true
	s.log.Warn("grant revoked", slog.String("client_id", g.clientID), slog.String("reason", why))
}

// TerminateSession: the demo has no sessions.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// GetRefreshTokenInfo backs RFC 7009 revocation of refresh tokens.
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[tokenKey(token)]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return r.subject, token, nil
}

// RevokeToken implements RFC 7009 §2.1: revoking a refresh token revokes its
// grant; revoking an access token marks its jti. A token of another client
// is refused; an unknown token is not an error.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.refresh[tokenKey(tokenOrID)]; ok {
		if r.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		s.revokeGrantLocked(r.grantID, "revoked by client")
		return nil
	}
	if a, ok := s.accessTokens[tokenOrID]; ok {
		if a.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		a.revoked = true
	}
	return nil
}
