package jwtauth

import (
	"fmt"
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// Audience chooses the aud claim of the assertions.
type Audience int

const (
	// AudienceIssuer sends the authorization server's issuer identifier,
	// as a single string: what RFC 7523bis requires and every server
	// accepts.
	AudienceIssuer Audience = iota
	// AudienceTokenEndpoint sends the token endpoint URL, which RFC 7523
	// §3 also allows, for servers that still insist on it.
	AudienceTokenEndpoint
)

// Method configures private_key_jwt for a transport. Its ClientAuth method
// is an mcpauth.Config.ClientAuth hook:
//
//	m := &jwtauth.Method{Key: key}
//	cfg := mcpauth.Config{ClientAuth: m.ClientAuth, ...}
type Method struct {
	// Key signs the assertions.
	Key *Key
	// Audience chooses aud; the zero value is AudienceIssuer.
	Audience Audience
	// Lifetime of each assertion; 0 means DefaultLifetime.
	Lifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// UnsupportedError reports an authorization server whose metadata rules
// out this client authentication: it does not list private_key_jwt, or
// not the key's algorithm.
type UnsupportedError struct {
	Issuer string
	// Field is the metadata field that rules it out.
	Field string
	// Want is what is missing from it; Listed is what it lists.
	Want   string
	Listed []string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("jwtauth: authorization server %s does not list %s in %s (it lists %q)", e.Issuer, e.Want, e.Field, e.Listed)
}

// ClientAuth returns the authentication for client c at the server md: a
// private_key_jwt Auth when the client uses that method or declares none
// (a pre-registered client), else the method the client was registered
// with (token.AuthFor), so that a dynamically registered public client at
// another server keeps working. It fails when the server's metadata lists
// its supported methods or signing algorithms and leaves out
// private_key_jwt or the key's algorithm.
func (m *Method) ClientAuth(c *registration.Client, md *discovery.ServerMetadata) (token.ClientAuth, error) {
	if c.AuthMethod != "" && c.AuthMethod != registration.AuthPrivateKeyJWT {
		return token.AuthFor(c, md.TokenEndpointAuthMethodsSupported), nil
	}
	if m.Key == nil {
		return nil, fmt.Errorf("jwtauth: client %s at %s: %w", c.ID, md.Issuer, ErrNoKey)
	}
	if l := md.TokenEndpointAuthMethodsSupported; len(l) > 0 && !slices.Contains(l, registration.AuthPrivateKeyJWT) {
		return nil, &UnsupportedError{Issuer: md.Issuer, Field: "token_endpoint_auth_methods_supported", Want: registration.AuthPrivateKeyJWT, Listed: l}
	}
	if l := md.TokenEndpointAuthSigningAlgValuesSupported; len(l) > 0 && !slices.Contains(l, m.Key.Algorithm()) {
		return nil, &UnsupportedError{Issuer: md.Issuer, Field: "token_endpoint_auth_signing_alg_values_supported", Want: m.Key.Algorithm(), Listed: l}
	}
	a := &Auth{ClientID: c.ID, Key: m.Key, Lifetime: m.Lifetime, Now: m.Now}
	switch m.Audience {
	case AudienceTokenEndpoint:
		a.Audience = md.TokenEndpoint
	default:
		a.Audience = md.Issuer
	}
	return a, nil
}
