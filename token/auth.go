package token

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/mcpauth/mcpauth/registration"
)

// ClientAuth authenticates a client at the token endpoint (RFC 6749 §2.3).
type ClientAuth interface {
	// Apply adds the client's credentials to a token request's form and
	// headers. endpoint is the token endpoint URL, which signed assertions
	// may name as their audience.
	Apply(req *http.Request, form url.Values, endpoint string) error
}

// None identifies a public client by client_id alone (RFC 6749 §2.1).
type None struct{ ClientID string }

// Apply implements ClientAuth.
func (a None) Apply(_ *http.Request, form url.Values, _ string) error {
	form.Set("client_id", a.ClientID)
	return nil
}

// SecretBasic sends the client credentials with HTTP Basic authentication,
// form-encoding them first (RFC 6749 §2.3.1).
type SecretBasic struct{ ClientID, Secret string }

// Apply implements ClientAuth.
func (a SecretBasic) Apply(req *http.Request, _ url.Values, _ string) error {
	req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.Secret))
	return nil
}

// SecretPost sends the client credentials in the request body
// (RFC 6749 §2.3.1).
type SecretPost struct{ ClientID, Secret string }

// Apply implements ClientAuth.
func (a SecretPost) Apply(_ *http.Request, form url.Values, _ string) error {
	form.Set("client_id", a.ClientID)
	form.Set("client_secret", a.Secret)
	return nil
}

// AuthFor chooses the client authentication for c at a token endpoint that
// supports the given methods (RFC 8414 token_endpoint_auth_methods_supported;
// absent means client_secret_basic, RFC 8414 §2). The method the client was
// registered with wins when it is known; a pre-registered client with a
// secret and no declared method takes basic if supported, else post.
func AuthFor(c *registration.Client, supported []string) ClientAuth {
	if c.Secret == "" {
		return None{ClientID: c.ID}
	}
	switch c.AuthMethod {
	case registration.AuthClientSecretBasic:
		return SecretBasic{ClientID: c.ID, Secret: c.Secret}
	case registration.AuthClientSecretPost:
		return SecretPost{ClientID: c.ID, Secret: c.Secret}
	}
	if len(supported) == 0 || slices.Contains(supported, registration.AuthClientSecretBasic) {
		return SecretBasic{ClientID: c.ID, Secret: c.Secret}
	}
	if slices.Contains(supported, registration.AuthClientSecretPost) {
		return SecretPost{ClientID: c.ID, Secret: c.Secret}
	}
	return SecretBasic{ClientID: c.ID, Secret: c.Secret}
}
