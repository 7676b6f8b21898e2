package registration

import (
	"fmt"
	"io"
	"log/slog"
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

// String describes the client without its secret.
func (c Client) String() string {
	secret := "none"
	if c.Secret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("client{kind=%s issuer=%s client_id=%s auth=%s secret=%s}", c.Kind, c.Issuer, c.ID, c.AuthMethod, secret)
}

// Format implements fmt.Formatter: every verb prints [Client.String], so
// the secret never reaches a log line, an error or a panic message.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer, without the secret.
func (c Client) LogValue() slog.Value {
	secret := "none"
	if c.Secret != "" {
		secret = "[redacted]"
	}
	return slog.GroupValue(
		slog.String("kind", string(c.Kind)),
		slog.String("issuer", c.Issuer),
		slog.String("client_id", c.ID),
		slog.String("auth", c.AuthMethod),
		slog.String("secret", secret),
	)
}
