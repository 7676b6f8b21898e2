package mcpauth

import (
	"errors"
	"fmt"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/netguard"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// The errors a caller may branch on, by the rule they enforce. Each is
// returned wrapped; use errors.As.
type (
	// ResourceMismatchError: the protected resource metadata names another
	// resource (PRM-4).
	ResourceMismatchError = discovery.ResourceMismatchError
	// MetadataIssuerMismatchError: the authorization server metadata's
	// issuer is not the one it was looked up for (ASM-3).
	MetadataIssuerMismatchError = discovery.IssuerMismatchError
	// IssMismatchError: the authorization response's iss does not match
	// (ISS-1, RFC 9207).
	IssMismatchError = authorize.IssuerMismatchError
	// RegistrationError: dynamic client registration was refused (REG-4).
	RegistrationError = registration.Error
	// TokenError: the token endpoint refused a request (RFC 6749 §5.2).
	TokenError = token.Error
	// AuthorizationError: the authorization server answered the
	// authorization request with an error, such as access_denied.
	AuthorizationError = authorize.ServerError
	// URLError: a URL a server handed the client breaks the URL policy
	// (RDR-1, URL-1): not https nor loopback http (javascript:, data:,
	// file:, plain http to another host), or with userinfo or a fragment.
	// Its Role names the URL, such as "authorization_endpoint".
	URLError = urlcheck.Error
	// RedirectError: a redirect refused during discovery, registration or
	// a token request: to another origin, from https to http, or one too
	// many (SSRF-1).
	RedirectError = urlcheck.RedirectError
	// NetworkPolicyError: Config.Network refused to connect to an address
	// (SSRF-1).
	NetworkPolicyError = netguard.BlockedError
	// ChallengeError: a malformed or oversized WWW-Authenticate header
	// (PRM-2).
	ChallengeError = discovery.ChallengeError
)

// ErrStateMismatch: the redirect's state was missing or wrong (STATE-1).
var ErrStateMismatch = authorize.ErrStateMismatch

// ErrNoCode: the redirect passed the state and iss checks but carried
// neither a code nor an error.
var ErrNoCode = authorize.ErrNoCode

// PKCEUnsupportedError reports an authorization server whose metadata does
// not list S256 in code_challenge_methods_supported (PKCE-1). The client
// refuses to proceed without PKCE.
type PKCEUnsupportedError struct {
	Issuer      string
	MetadataURL string
	Methods     []string // what the server listed
}

func (e *PKCEUnsupportedError) Error() string {
	if len(e.Methods) == 0 {
		return fmt.Sprintf("authorization server %s does not advertise PKCE support: its metadata at %s has no code_challenge_methods_supported, so the client will not proceed (MCP requires PKCE with S256); ask the server's operator to publish it",
			e.Issuer, e.MetadataURL)
	}
	return fmt.Sprintf("authorization server %s does not support PKCE with S256 (its metadata at %s lists %q), so the client will not proceed (MCP requires S256)",
		e.Issuer, e.MetadataURL, e.Methods)
}

// InsufficientScopeError reports a 403 insufficient_scope that persisted
// after the last step-up authorization allowed (STEP-2).
type InsufficientScopeError struct {
	ServerURL string
	Scopes    []string // the scopes the server last asked for
	Attempts  int
}

func (e *InsufficientScopeError) Error() string {
	return fmt.Sprintf("%s still answers 403 insufficient_scope (asking for %q) after %d authorization attempts; the account may lack the permission, or the server keeps asking for a scope it never grants",
		e.ServerURL, e.Scopes, e.Attempts)
}

// NoRegistrationMethodError reports an authorization server with which the
// client has no way to obtain a client id (REG-2): no pre-registered
// client for its issuer, no client ID metadata document support (or none
// configured), and no registration endpoint.
type NoRegistrationMethodError struct {
	Issuer string
	// CIMDSupported tells whether the server supports client ID metadata
	// documents, in which case configuring one would help.
	CIMDSupported bool
}

func (e *NoRegistrationMethodError) Error() string {
	msg := fmt.Sprintf("no way to register a client with authorization server %s: no pre-registered client is configured for this issuer, ", e.Issuer)
	if e.CIMDSupported {
		msg += "no client ID metadata document URL is configured (the server supports them), "
	} else {
		msg += "it does not support client ID metadata documents, "
	}
	return msg + "and it offers no dynamic client registration endpoint; configure a pre-registered client id for this issuer"
}

// LoginRequiredError reports that a person must authorize, but the
// transport was configured without a way to reach one (no Step), or a
// non-interactive caller asked for none.
type LoginRequiredError struct {
	ServerURL string
	Reason    string
}

func (e *LoginRequiredError) Error() string {
	msg := "login required for " + e.ServerURL
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// IsLoginRequired reports whether err means a person must log in again.
func IsLoginRequired(err error) bool {
	var e *LoginRequiredError
	return errors.As(err, &e)
}
