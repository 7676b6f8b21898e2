package authserver

import (
	"log/slog"
	"time"
)

// Scopes this server knows. offline_access is advertised only while refresh
// tokens are enabled.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
	ScopeMCPRead       = "mcp:read"
	ScopeMCPWrite      = "mcp:write"
)

// Config configures a [Server]. The zero value is usable: it listens on
// 127.0.0.1 with an ephemeral port, issues refresh tokens with rotation and
// shows a consent page.
type Config struct {
	// Addr is the listen address; default "127.0.0.1:0". It must be a
	// loopback address: the issuer is plain http.
	Addr string

	// Resources lists the RFC 8707 resource indicators (e.g. the MCP
	// endpoint URL) a client may ask for. More can be added with
	// [Server.AddResource].
	Resources []string

	// DefaultResource, when set, is the audience of tokens whose requests
	// carry no resource parameter. When empty such tokens get the client id
	// as audience, which no MCP server accepts.
	DefaultResource string

	// DefaultScopes is used when an authorization request carries no scope
	// and the client registered none; default ["mcp:read"].
	DefaultScopes []string

	// AccessTokenLifetime defaults to 10 minutes. A few seconds works (tests
	// use 2s); see also [Server.SetAccessTokenLifetime].
	AccessTokenLifetime time.Duration

	// RefreshTokenLifetime defaults to 24 hours.
	RefreshTokenLifetime time.Duration

	// DisableRefreshTokens turns refresh tokens off entirely: offline_access
	// is neither advertised nor granted and the refresh_token grant is
	// refused.
	DisableRefreshTokens bool

	// DisableRotation makes a refresh return the same refresh token instead
	// of a new one (no reuse detection then).
	DisableRotation bool

	// StrictRotation revokes the grant on any reuse of a rotated refresh
	// token. By default a rotated token is accepted again while its
	// successor has never been presented (a lost response); reuse after the
	// successor was used always revokes the grant.
	StrictRotation bool

	// AutoApprove (headless mode) approves every authorization request as a
	// person clicking "Approve" would, answering 302 straight to the
	// redirect_uri.
	AutoApprove bool

	// Subject and UserName describe the single demo user.
	Subject  string // default "demo-user"
	UserName string // default "Demo User"

	// CIMDCacheTTL is how long a fetched client ID metadata document is
	// reused; default 1 minute.
	CIMDCacheTTL time.Duration

	// CIMDHTTPSOnly refuses http client ID metadata document URLs even on
	// 127.0.0.1 and [::1] (they are accepted by default, for the demo and
	// tests). Other hosts always need https.
	CIMDHTTPSOnly bool

	// Logger receives one line per notable event (registration, token
	// issued, grant revoked). Tokens and secrets are never logged. Default:
	// discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if len(c.DefaultScopes) == 0 {
		c.DefaultScopes = []string{ScopeMCPRead}
	}
	if c.AccessTokenLifetime <= 0 {
		c.AccessTokenLifetime = 10 * time.Minute
	}
	if c.RefreshTokenLifetime <= 0 {
		c.RefreshTokenLifetime = 24 * time.Hour
	}
	if c.Subject == "" {
		c.Subject = "demo-user"
	}
	if c.UserName == "" {
		c.UserName = "Demo User"
	}
	if c.CIMDCacheTTL <= 0 {
		c.CIMDCacheTTL = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// supportedScopes lists the scopes advertised in scopes_supported.
func (c Config) supportedScopes() []string {
	s := []string{ScopeOpenID, ScopeProfile}
	if !c.DisableRefreshTokens {
		s = append(s, ScopeOfflineAccess)
	}
	return append(s, ScopeMCPRead, ScopeMCPWrite)
}
