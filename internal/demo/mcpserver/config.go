package mcpserver

import (
	"log/slog"
	"net/http"
	"time"
)

// Scopes this server uses.
const (
	ScopeRead  = "mcp:read"
	ScopeWrite = "mcp:write"
)

// Config configures a [Server].
type Config struct {
	// AuthServerIssuer is the issuer of the tokens this server accepts and
	// the only entry of authorization_servers in its metadata. Required.
	AuthServerIssuer string

	// Addr is the listen address; default "127.0.0.1:0".
	Addr string

	// HTTPClient fetches the authorization server's metadata and JWKS.
	// Default: a client with a 5 second timeout.
	HTTPClient *http.Client

	// Logger receives one line per notable event; tokens are never logged.
	// Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
