package registration

import (
	"slices"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/scope"
)

// Grant types (RFC 7591 §2).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Token endpoint authentication methods (RFC 7591 §2).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// Application types (OpenID Connect Dynamic Client Registration 1.0 §2,
// REG-4).
const (
	ApplicationNative = "native"
	ApplicationWeb    = "web"
)

// Metadata is OAuth 2.0 client metadata (RFC 7591 §2), as sent in a DCR
// request or served as a Client ID Metadata Document.
type Metadata struct {
	ClientID                string   `json:"client_id,omitempty"` // CIMD documents only
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	Contacts                []string `json:"contacts,omitempty"`
	TOSURI                  string   `json:"tos_uri,omitempty"`
	PolicyURI               string   `json:"policy_uri,omitempty"`
	JWKSURI                 string   `json:"jwks_uri,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	// DPoPBoundAccessTokens asks the authorization server to issue this
	// client DPoP-bound access tokens only (RFC 9449 §5.2): set it when
	// the client always sends DPoP proofs (ext/dpop).
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
}

// Defaults fills what the application left unset, for a client that runs
// the authorization code flow with PKCE and keeps refresh tokens:
//   - grant_types: authorization_code and refresh_token (REF-2), or
//     authorization_code alone when refreshTokens is false;
//   - response_types: code;
//   - token_endpoint_auth_method: none (a public client, RFC 7591 §2);
//   - application_type: native when every redirect URI is loopback,
//     web otherwise (REG-4).
//
// When refreshTokens is false, refresh_token is also removed from grant
// types the application set, and offline_access from its scope.
func (m Metadata) Defaults(refreshTokens bool) Metadata {
	m.RedirectURIs = slices.Clone(m.RedirectURIs)
	m.GrantTypes = slices.Clone(m.GrantTypes)
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if !refreshTokens {
		m.GrantTypes = slices.DeleteFunc(m.GrantTypes, func(g string) bool { return g == GrantRefreshToken })
		m.Scope = scope.Join(scope.Without(scope.Parse(m.Scope), scope.OfflineAccess))
	}
	if len(m.ResponseTypes) == 0 && slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
		m.ResponseTypes = []string{"code"}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = AuthNone
	}
	if m.ApplicationType == "" {
		m.ApplicationType = ApplicationTypeFor(m.RedirectURIs)
	}
	return m
}

// ApplicationTypeFor returns native when every redirect URI is on a
// loopback host (a desktop or command-line client, RFC 8252 §7.3) or uses a
// private-use scheme, and web otherwise.
func ApplicationTypeFor(redirectURIs []string) string {
	if len(redirectURIs) == 0 {
		return ApplicationNative
	}
	for _, r := range redirectURIs {
		if _, err := urlcheck.HTTPSOrLoopback("redirect_uri", r); err == nil && !isLoopbackURL(r) {
			return ApplicationWeb
		}
	}
	return ApplicationNative
}

func isLoopbackURL(raw string) bool {
	u, err := urlcheck.HTTPSOrLoopback("redirect_uri", raw)
	return err == nil && u.Scheme == "http" && urlcheck.IsLoopbackHost(u.Hostname())
}
