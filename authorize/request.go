package authorize

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/scope"
)

// Request is an authorization request (RFC 6749 §4.1.1) as MCP requires it.
type Request struct {
	// Endpoint is the authorization server's authorization_endpoint.
	Endpoint string
	// Issuer is the authorization server's issuer, recorded with the
	// request so the response can be checked against it (ISS-1).
	Issuer string
	// IssParameterSupported is the server's
	// authorization_response_iss_parameter_supported (RFC 9207 §3).
	IssParameterSupported bool

	ClientID    string
	RedirectURI string
	// Scopes to request; nil omits the parameter (SCP-1).
	Scopes []string
	// Resource is the canonical URI of the MCP server (RFC 8707, RES-1).
	Resource string
	// State is an unguessable value bound to this request (STATE-1).
	State string
	// Verifier is the PKCE code verifier (RFC 7636 §4.1); the request
	// carries its S256 challenge (PKCE-1).
	Verifier string
	// Prompt, such as "consent" when offline_access is requested (REF-4).
	Prompt string
}

// New returns a request with a fresh state and PKCE verifier.
func New() Request {
	return Request{State: NewState(), Verifier: oauth2.GenerateVerifier()}
}

// NewState returns 32 random bytes, base64url-encoded.
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// URL returns the authorization URL to send the person to. It refuses an
// endpoint that is not https or loopback http (URL-1), so nothing else
// reaches a browser.
func (r Request) URL() (string, error) {
	u, err := urlcheck.HTTPSOrLoopback("authorization_endpoint", r.Endpoint)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", r.ClientID)
	if r.RedirectURI != "" {
		q.Set("redirect_uri", r.RedirectURI)
	}
	if len(r.Scopes) > 0 {
		q.Set("scope", scope.Join(r.Scopes))
	}
	q.Set("state", r.State)
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(r.Verifier))
	q.Set("code_challenge_method", "S256")
	if r.Resource != "" {
		q.Set("resource", r.Resource)
	}
	if r.Prompt != "" {
		q.Set("prompt", r.Prompt)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Values returns the query of a URL as url.Values, for a caller that
// reads a redirect it received another way.
func Values(rawURL string) (url.Values, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return u.Query(), nil
}
