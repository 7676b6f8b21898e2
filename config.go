package mcpauth

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/netguard"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// DefaultMaxAuthorizations bounds the authorizations one request may
// trigger: the first, and step-ups after it (STEP-2).
const DefaultMaxAuthorizations = 3

// Config configures a [Transport]. The zero value works for a server whose
// authorization server supports dynamic client registration, with a
// memory store and no person to ask (so a login fails with
// *LoginRequiredError): set Step for interactive use.
type Config struct {
	// Base sends the MCP requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// HTTPClient sends the OAuth requests (discovery, registration,
	// tokens); nil means a client over Base. Whatever its CheckRedirect,
	// these requests follow redirects only within an origin and never from
	// https to http.
	HTTPClient *http.Client
	// Network, if set, is the address policy of a client that runs on a
	// server (SSRF-1): every request the transport makes, to the MCP
	// server and for OAuth, goes through Network.Transport(), which
	// refuses to connect to private, loopback, link-local, CGNAT,
	// multicast, reserved and cloud metadata addresses, judging the
	// address actually dialled. Base and HTTPClient must then be nil
	// (NewTransport fails otherwise); to combine the policy with a Base of
	// one's own, such as a DPoP transport, build that over
	// Network.Transport() and leave Network nil.
	Network *netguard.Policy
	// Timeout bounds each discovery, registration and token request,
	// response included, whatever HTTPClient's own timeout. 0 means the
	// packages' defaults: discovery.DefaultTimeout,
	// registration.DefaultTimeout and token.DefaultTimeout.
	Timeout time.Duration
	// Store keeps credentials; nil means a new store.Memory.
	Store store.Store
	// Step is the person's part of an authorization, such as an
	// authorize.Loopback that opens a browser. Nil means the transport
	// never starts an interactive authorization.
	Step authorize.Step
	// Client describes this client for client ID metadata documents and
	// dynamic registration. Unset fields get registration.Metadata.Defaults;
	// RedirectURIs are filled from the Step.
	Client registration.Metadata
	// ClientIDMetadataURL is the https URL where this client's metadata
	// document is published (REG-3). Empty disables that method.
	ClientIDMetadataURL string
	// PreRegistered holds clients registered by hand, by issuer (REG-5).
	PreRegistered map[string]PreRegisteredClient
	// Scopes are requested when neither the server's challenge nor its
	// resource metadata names any (SCP-1's configured fallback).
	Scopes []string
	// DisableRefreshTokens is for clients that cannot store refresh tokens
	// safely: it removes refresh_token from the registered grant types and
	// never requests offline_access.
	DisableRefreshTokens bool
	// MaxAuthorizations bounds the authorizations one request may trigger;
	// 0 means DefaultMaxAuthorizations.
	MaxAuthorizations int
	// Logger receives debug logs; nil discards them. Logs never hold
	// tokens, secrets, codes or verifiers.
	Logger *slog.Logger
	// Observer, if set, is told of each step of an authorization, for a
	// person-facing narration.
	Observer func(Event)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// ClientAuth, if set, chooses how the client authenticates at the
	// token endpoint, for methods beyond none and client secrets (such as
	// private_key_jwt, RFC 7523 §2.2). Nil means token.AuthFor.
	ClientAuth func(c *registration.Client, md *discovery.ServerMetadata) (token.ClientAuth, error)
	// Grant, if set, obtains tokens without a person, replacing the
	// authorization code flow: client credentials, or a JWT bearer
	// assertion (RFC 7523 §2.1). Discovery, the client identity and scope
	// selection still run first.
	Grant Grant
}

// A Grant obtains tokens at the token endpoint with no person involved.
type Grant interface {
	Token(ctx context.Context, r GrantRequest) (*token.Token, error)
}

// GrantRequest is what a Grant works from: the outcome of discovery,
// registration and scope selection.
type GrantRequest struct {
	// Endpoint is the token endpoint, with the client's authentication.
	Endpoint *token.Endpoint
	Server   *discovery.ServerMetadata
	Client   *registration.Client
	// Resource is the resource parameter value (RES-1).
	Resource string
	// Scopes to request; nil omits the parameter.
	Scopes []string
}

// PreRegisteredClient is a client registered by hand at one authorization
// server.
type PreRegisteredClient struct {
	ClientID string
	Secret   string
	// AuthMethod is the token endpoint authentication method; empty picks
	// one from the server's metadata.
	AuthMethod string
	// GrantTypes the client was registered for. Empty means unknown, and
	// then offline_access is never requested (REF-3).
	GrantTypes []string
	// RedirectURI registered for the client; empty lets the Step choose.
	RedirectURI string
}

func (c *Config) maxAuthorizations() int {
	if c.MaxAuthorizations > 0 {
		return c.MaxAuthorizations
	}
	return DefaultMaxAuthorizations
}
