package mcpauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// LogoutResult says what Logout did.
type LogoutResult struct {
	Issuer  string
	Revoked bool // the authorization server confirmed the revocation
	// RevokeErr is why revocation failed or was skipped; the entry is
	// deleted all the same.
	RevokeErr error
}

// ErrNoRevocationEndpoint means the authorization server advertises no
// revocation_endpoint, so tokens could only be forgotten locally.
var ErrNoRevocationEndpoint = errors.New("the authorization server has no revocation_endpoint; the tokens were deleted locally but remain valid until they expire")

// Logout revokes the stored tokens for the server (RFC 7009), the refresh
// token first since that ends the grant, when the authorization server
// advertises a revocation_endpoint, and then deletes the stored entries.
// The client registration is deleted with them.
func (t *Transport) Logout(ctx context.Context) ([]LogoutResult, error) {
	recs, err := t.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("mcpauth: reading the credential store: %w", err)
	}
	var out []LogoutResult
	for _, rec := range recs {
		if rec.Resource != t.serverURL {
			continue
		}
		res := LogoutResult{Issuer: rec.Issuer}
		res.Revoked, res.RevokeErr = t.revoke(ctx, rec)
		if err := t.store.Delete(ctx, rec.Key); err != nil {
			return out, fmt.Errorf("mcpauth: deleting credentials for %s: %w", rec.Issuer, err)
		}
		out = append(out, res)
	}
	t.mu.Lock()
	t.cur, t.loaded = nil, true
	t.mu.Unlock()
	return out, nil
}

func (t *Transport) revoke(ctx context.Context, rec *store.Record) (bool, error) {
	if rec.Token == nil {
		return false, nil
	}
	md := rec.ServerMetadata
	if md == nil || md.RevocationEndpoint == "" {
		return false, ErrNoRevocationEndpoint
	}
	var auth token.ClientAuth
	if rec.Client != nil {
		ep, err := t.endpoint(md, rec.Client)
		if err != nil {
			return false, err
		}
		auth = ep.Auth
	}
	if rec.Token.RefreshToken != "" {
		if err := token.Revoke(ctx, t.hc, md.RevocationEndpoint, auth, rec.Token.RefreshToken, "refresh_token"); err != nil {
			return false, err
		}
	}
	if err := token.Revoke(ctx, t.hc, md.RevocationEndpoint, auth, rec.Token.AccessToken, "access_token"); err != nil {
		return false, err
	}
	return true, nil
}
