package registration

import (
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/scope"
)

// Kind says how a client identity was obtained (REG-1).
type Kind string

// The kinds of client identity.
const (
	PreRegistered    Kind = "pre-registered"
	MetadataDocument Kind = "cimd"
	Dynamic          Kind = "dcr"
)

// Client is a client identity at one authorization server. It is what the
// credential store keeps, per issuer (AS-2).
type Client struct {
	Kind   Kind   `json:"kind"`
	Issuer string `json:"issuer"`
	ID     string `json:"client_id"`
	// Secret is the client secret; empty for a public client.
	Secret string `json:"client_secret,omitempty"`
	// SecretExpiresAt is when the secret expires; zero means never
	// (RFC 7591 §3.2.1 client_secret_expires_at of 0).
	SecretExpiresAt time.Time `json:"client_secret_expires_at,omitzero"`
	// AuthMethod is the token endpoint authentication method.
	AuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// GrantTypes the client is registered for. Empty means not declared,
	// which for a pre-registered client means the refresh_token grant is
	// not assumed (REF-3).
	GrantTypes []string `json:"grant_types,omitempty"`
	// Scope the registration was made with; empty means no restriction
	// was asked for.
	Scope        string    `json:"scope,omitempty"`
	RedirectURIs []string  `json:"redirect_uris,omitempty"`
	IssuedAt     time.Time `json:"client_id_issued_at,omitzero"`
}

// Expired reports whether the client secret has expired at now.
func (c *Client) Expired(now time.Time) bool {
	return !c.SecretExpiresAt.IsZero() && !now.Before(c.SecretExpiresAt)
}

// Fits reports whether a stored registration can serve a request for
// scopes, grant types and a redirect URI: the registered scope (if the
// registration named one) must cover the scopes, and the registered grant
// types must include each wanted one. An AS may treat a registered scope
// as an allow-list, so a registration that does not fit must be replaced,
// not reused.
func (c *Client) Fits(scopes, grantTypes []string) bool {
	if c.Scope != "" && !scope.Covers(scope.Parse(c.Scope), scopes) {
		return false
	}
	for _, g := range grantTypes {
		if len(c.GrantTypes) > 0 && !slices.Contains(c.GrantTypes, g) {
			return false
		}
	}
	return true
}

// HasGrant reports whether the client is known to hold grant type g.
func (c *Client) HasGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }
