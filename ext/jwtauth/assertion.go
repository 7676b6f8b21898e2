// Package jwtauth authenticates an OAuth client at the token endpoint with
// a JWT signed by the client's private key: the private_key_jwt method of
// RFC 7523 §2.2 and OpenID Connect Core §9.
//
// It plugs into mcpauth.Config.ClientAuth, so it serves every flow that
// reaches the token endpoint: the authorization code exchange, refresh,
// client credentials (SEP-1046), and the JWT bearer grants.
//
// Each assertion carries iss and sub set to the client_id, aud set to the
// authorization server's issuer identifier (or, on request, its token
// endpoint URL), a fresh jti and a lifetime of a minute.
package jwtauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

// AssertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultLifetime is how long an assertion is valid: long enough for
// clock skew and a slow network, short enough that a captured one is soon
// useless.
const DefaultLifetime = time.Minute

// Auth is the private_key_jwt authentication of one client at one
// authorization server. It implements token.ClientAuth.
type Auth struct {
	// ClientID is the client_id, used as iss and sub (RFC 7523 §3).
	ClientID string
	// Key signs the assertions.
	Key *Key
	// Audience is the aud claim; empty means the token endpoint URL the
	// request goes to.
	Audience string
	// Lifetime of each assertion; 0 means DefaultLifetime.
	Lifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// claims are the assertion's claims (RFC 7523 §3, RFC 7519 §4.1).
type claims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

// Apply implements token.ClientAuth: it adds client_assertion_type and a
// freshly signed client_assertion to the form. client_id is left out, as
// RFC 7523 §3 conveys it in sub.
func (a *Auth) Apply(_ *http.Request, form url.Values, endpoint string) error {
	jwt, err := a.Assertion(endpoint)
	if err != nil {
		return err
	}
	form.Set("client_assertion_type", AssertionType)
	form.Set("client_assertion", jwt)
	return nil
}

// Assertion returns a new signed client assertion. endpoint is the token
// endpoint URL, the audience when Audience is empty.
func (a *Auth) Assertion(endpoint string) (string, error) {
	if a.ClientID == "" {
		return "", errors.New("jwtauth: no client_id to sign an assertion for")
	}
	if a.Key == nil {
		return "", fmt.Errorf("jwtauth: client %s: %w", a.ClientID, ErrNoKey)
	}
	aud := a.Audience
	if aud == "" {
		aud = endpoint
	}
	if aud == "" {
		return "", fmt.Errorf("jwtauth: client %s: no audience for the assertion", a.ClientID)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	life := a.Lifetime
	if life <= 0 {
		life = DefaultLifetime
	}
	jti, err := keys.NewJTI()
	if err != nil {
		return "", fmt.Errorf("jwtauth: %w", err)
	}
	jwt, err := a.Key.Sign(claims{
		Issuer:   a.ClientID,
		Subject:  a.ClientID,
		Audience: aud,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(life).Unix(),
		ID:       jti,
	}, keys.SignOptions{})
	if err != nil {
		return "", fmt.Errorf("jwtauth: client %s: %w", a.ClientID, err)
	}
	return jwt, nil
}
