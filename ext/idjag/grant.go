// Package idjag implements enterprise-managed authorization for MCP
// clients (SEP-990, io.modelcontextprotocol/enterprise-managed-authorization),
// the Identity Assertion JWT Authorization Grant profile: with the user
// already signed in to the client through the enterprise IdP, the client
//
//  1. exchanges the user's identity assertion (the ID Token) at the IdP
//     for an ID-JAG (RFC 8693 token exchange, requested_token_type
//     urn:ietf:params:oauth:token-type:id-jag, audience the MCP server's
//     authorization server issuer, resource the MCP server), then
//  2. presents the ID-JAG to the MCP server's authorization server with
//     the JWT bearer grant (RFC 7523 §2.1), authenticated as the client
//     registered there,
//
// with no browser step. Set a Grant as mcpauth.Config.Grant, with the
// client pre-registered at the authorization server's issuer.
package idjag

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/token"
)

// GrantTypeJWTBearer is the JWT bearer grant type (RFC 7523 §2.1).
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Grant obtains an access token through the IdP. It is an mcpauth.Grant.
type Grant struct {
	// IdP is where the identity assertion is exchanged.
	IdP *IdP
	// SubjectToken returns the user's current identity assertion, such as
	// the ID Token from single sign-on. When it has expired, the IdP
	// refuses the exchange and the person must sign in again.
	SubjectToken func(ctx context.Context) (string, error)
	// SubjectTokenType is its type; empty means TokenTypeIDToken.
	SubjectTokenType string
}

var _ mcpauth.Grant = (*Grant)(nil)

// Token runs both steps for r.Resource and r.Scopes at the authorization
// server r.Server.
func (g *Grant) Token(ctx context.Context, r mcpauth.GrantRequest) (*token.Token, error) {
	switch {
	case g.IdP == nil:
		return nil, errors.New("idjag: no IdP configured")
	case g.SubjectToken == nil:
		return nil, errors.New("idjag: no subject token source configured")
	case r.Endpoint == nil || r.Server == nil:
		return nil, errors.New("idjag: no authorization server to present the ID-JAG to")
	}
	subject, err := g.SubjectToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("idjag: getting the identity assertion: %w", err)
	}
	jag, err := g.IdP.Exchange(ctx, ExchangeRequest{
		SubjectToken:     subject,
		SubjectTokenType: g.SubjectTokenType,
		Audience:         r.Server.Issuer,
		Resource:         r.Resource,
		Scopes:           r.Scopes,
	})
	if err != nil {
		return nil, err
	}
	return Present(ctx, r, jag.JWT)
}

// Present makes the JWT bearer grant request with an ID-JAG at the
// authorization server of r (SEP-990 §5): grant_type, assertion, and the
// resource (RES-1) and scope, with the client's authentication.
func Present(ctx context.Context, r mcpauth.GrantRequest, idJAG string) (*token.Token, error) {
	if idJAG == "" {
		return nil, errors.New("idjag: empty ID-JAG")
	}
	form := url.Values{
		"grant_type": {GrantTypeJWTBearer},
		"assertion":  {idJAG},
	}
	if r.Resource != "" {
		form.Set("resource", r.Resource)
	}
	if len(r.Scopes) > 0 {
		form.Set("scope", scope.Join(r.Scopes))
	}
	tok, err := r.Endpoint.Do(ctx, form, r.Scopes)
	if err != nil {
		return nil, fmt.Errorf("idjag: presenting the ID-JAG: %w", err)
	}
	return tok, nil
}
