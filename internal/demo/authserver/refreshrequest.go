package authserver

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// refreshRequest is what a refresh token stands for: the grant's subject,
// client, scopes and resource. op calls SetCurrentScopes when the refresh
// request narrows the scope (RFC 6749 §6); the grant keeps its scopes.
type refreshRequest struct {
	grantID         string
	clientID        string
	subject         string
	authTime        time.Time
	grantScopes     []string
	currentScopes   []string
	resource        string
	defaultAudience string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string       { return []string{"pwd"} }
func (r *refreshRequest) GetAuthTime() time.Time { return r.authTime }
func (r *refreshRequest) GetClientID() string    { return r.clientID }
func (r *refreshRequest) GetSubject() string     { return r.subject }

// GetScopes returns the scopes of the token being issued.
func (r *refreshRequest) GetScopes() []string {
	if r.currentScopes != nil {
		return r.currentScopes
	}
	return r.grantScopes
}

// SetCurrentScopes narrows the scope of this refresh only.
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.currentScopes = slices.Clone(scopes) }

// GetAudience: see authRequest.GetAudience.
func (r *refreshRequest) GetAudience() []string {
	return audience(r.resource, r.defaultAudience, r.clientID)
}
