// Package workload obtains tokens for an MCP client that runs as a
// workload, by presenting the JWT its platform issued it (Kubernetes,
// SPIFFE, a cloud provider) with the JWT bearer grant of RFC 7523 §2.1:
// the Workload Identity Federation extension of MCP (SEP-1933,
// io.modelcontextprotocol/auth/wif).
//
// Set a Grant as mcpauth.Config.Grant. The transport discovers the
// protected resource and authorization server metadata and selects the
// scope as usual; the grant then sends
//
//	grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
//	assertion=<the workload JWT>
//	resource=<the MCP server's canonical URI>
//
// The workload JWT's audience is set by whoever mints it (SEP-1933 asks
// for the authorization server's token endpoint); this package passes it
// on untouched. A refusal (invalid_grant, invalid_scope,
// unauthorized_client) is returned as a *token.Error: the grant never
// retries and never falls back to another grant.
package workload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/token"
)

// GrantType is the JWT bearer grant type (RFC 7523 §2.1).
const GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// ErrExpired means the workload JWT has expired: the platform has not
// rotated it, or the Source returns an old one.
var ErrExpired = errors.New("the workload JWT has expired")

// ErrNotJWT means the Source returned something that is not a signed JWT.
var ErrNotJWT = errors.New("the workload credential is not a signed JWT (compact JWS)")

// Grant is the JWT bearer grant with a workload JWT. It is an
// mcpauth.Grant.
type Grant struct {
	// Source returns the workload JWT; see File and Static.
	Source Source
	// Now returns the current time, to refuse an expired JWT before
	// sending it; nil means time.Now.
	Now func() time.Time
}

var _ mcpauth.Grant = (*Grant)(nil)

// Token exchanges the workload JWT for an access token for r.Resource.
// With a client identity (r.Client with an ID) the request carries that
// client's authentication; without one, none, since SEP-1933 needs no
// client registration.
func (g *Grant) Token(ctx context.Context, r mcpauth.GrantRequest) (*token.Token, error) {
	if g.Source == nil {
		return nil, errors.New("workload: no JWT source configured")
	}
	if r.Endpoint == nil {
		return nil, errors.New("workload: no token endpoint")
	}
	assertion, err := g.Source(ctx)
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	if err := g.check(assertion); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	form := url.Values{
		"grant_type": {GrantType},
		"assertion":  {assertion},
	}
	if r.Resource != "" {
		form.Set("resource", r.Resource)
	}
	if len(r.Scopes) > 0 {
		form.Set("scope", scope.Join(r.Scopes))
	}
	ep := r.Endpoint
	if r.Client == nil || r.Client.ID == "" {
		e := *ep
		e.Auth = nil
		ep = &e
	}
	return ep.Do(ctx, form, r.Scopes)
}

// claims are the workload JWT claims read before sending it; the
// authorization server verifies the signature.
type claims struct {
	Issuer  string          `json:"iss"`
	Subject string          `json:"sub"`
	Expiry  json.RawMessage `json:"exp"`
}

// check refuses what the server would refuse anyway, with a clearer
// message: something that is not a JWT, or a JWT past its exp.
func (g *Grant) check(assertion string) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ErrNotJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: its payload is not base64url", ErrNotJWT)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return fmt.Errorf("%w: its payload is not a JSON object", ErrNotJWT)
	}
	var exp float64
	if len(c.Expiry) == 0 || json.Unmarshal(c.Expiry, &exp) != nil {
		return nil // no numeric exp: the server decides
	}
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	if expiry := time.Unix(int64(exp), 0); !now.Before(expiry) {
		return fmt.Errorf("%w (exp %s, issuer %q, subject %q)", ErrExpired, expiry.UTC().Format(time.RFC3339), c.Issuer, c.Subject)
	}
	return nil
}
