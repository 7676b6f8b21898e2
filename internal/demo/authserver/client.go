package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a registered (DCR) or metadata-document (CIMD) client. It
// implements op.Client; its fields never change after creation.
type client struct {
	id              string
	secretHash      [32]byte // sha256 of the secret; zero for public clients
	name            string
	redirectURIs    []string
	grantTypes      []oidc.GrantType
	responseTypes   []oidc.ResponseType
	authMethod      oidc.AuthMethod
	applicationType op.ApplicationType
	// allowedScopes, when non-nil, is the scope registered for the client:
	// requests for anything else fail with invalid_scope (RFC 7591 §2).
	allowedScopes []string
	// knownScopes are the scopes the server supports.
	knownScopes []string
	loginURL    string // issuer + "/login"
	viaCIMD     bool
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                        { return c.id }
func (c *client) RedirectURIs() []string               { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string     { return nil }
func (c *client) ApplicationType() op.ApplicationType  { return c.applicationType }
func (c *client) AuthMethod() oidc.AuthMethod          { return c.authMethod }
func (c *client) ResponseTypes() []oidc.ResponseType   { return c.responseTypes }
func (c *client) GrantTypes() []oidc.GrantType         { return c.grantTypes }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.knownScopes, scope) }

// LoginURL is where op.Authorize sends the browser: the consent page.
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?id=" + url.QueryEscape(id)
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) hasGrant(g oidc.GrantType) bool { return slices.Contains(c.grantTypes, g) }

func (c *client) public() bool { return c.authMethod == oidc.AuthMethodNone }

// checkSecret compares in constant time.
func (c *client) checkSecret(secret string) bool {
	if c.public() || secret == "" {
		return false
	}
	h := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(h[:], c.secretHash[:]) == 1
}

// displayName is the name shown on the consent page.
func (c *client) displayName() string {
	if c.name != "" {
		return c.name
	}
	return c.id
}
