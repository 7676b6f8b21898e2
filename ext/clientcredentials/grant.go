// Package clientcredentials obtains tokens with the OAuth client
// credentials grant (RFC 6749 §4.4, OAuth 2.1 §4.2) for machine-to-machine
// MCP clients: the OAuth Client Credentials extension of MCP (SEP-1046,
// io.modelcontextprotocol/oauth-client-credentials).
//
// Set a Grant as mcpauth.Config.Grant, with a client pre-registered for
// the authorization server's issuer. The transport still discovers the
// protected resource and authorization server metadata and selects the
// scope; the grant sends the resource indicator (RFC 8707) with them. The
// client authenticates with its secret (client_secret_basic or
// client_secret_post, chosen from the server's metadata) or, with
// jwtauth.Method as mcpauth.Config.ClientAuth, with a signed JWT
// (private_key_jwt, which SEP-1046 recommends).
package clientcredentials

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/token"
)

// GrantType is the grant_type value (RFC 6749 §4.4.2).
const GrantType = registration.GrantClientCredentials

// ErrPublicClient means the client has no credentials: the client
// credentials grant is only for confidential clients (RFC 6749 §4.4).
var ErrPublicClient = errors.New("the client credentials grant needs a confidential client: configure a client secret, or a private key with jwtauth.Method")

// Grant is the client credentials grant. The zero value is ready to use;
// it is an mcpauth.Grant.
type Grant struct{}

var _ mcpauth.Grant = Grant{}

// Token requests an access token with the client's own credentials, for
// r.Resource and r.Scopes. It refuses a public client, and a server whose
// metadata lists its grant types without client_credentials. A refusal by
// the server is returned as a *token.Error.
func (Grant) Token(ctx context.Context, r mcpauth.GrantRequest) (*token.Token, error) {
	if r.Endpoint == nil {
		return nil, errors.New("clientcredentials: no token endpoint")
	}
	if isPublic(r.Endpoint.Auth) {
		id := ""
		if r.Client != nil {
			id = r.Client.ID
		}
		return nil, fmt.Errorf("clientcredentials: client %q at %s: %w", id, r.Endpoint.Issuer, ErrPublicClient)
	}
	if r.Server != nil {
		if l := r.Server.GrantTypesSupported; len(l) > 0 && !slices.Contains(l, GrantType) {
			return nil, fmt.Errorf("clientcredentials: authorization server %s does not support the client credentials grant (grant_types_supported lists %q)", r.Server.Issuer, l)
		}
	}
	form := url.Values{"grant_type": {GrantType}}
	if r.Resource != "" {
		form.Set("resource", r.Resource)
	}
	if len(r.Scopes) > 0 {
		form.Set("scope", scope.Join(r.Scopes))
	}
	return r.Endpoint.Do(ctx, form, r.Scopes)
}

// isPublic reports client authentication that proves nothing.
func isPublic(a token.ClientAuth) bool {
	switch a := a.(type) {
	case nil:
		return true
	case token.None, *token.None:
		return true
	case token.SecretBasic:
		return a.Secret == ""
	case token.SecretPost:
		return a.Secret == ""
	}
	return false
}
