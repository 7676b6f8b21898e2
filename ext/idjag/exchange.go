package idjag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/scope"
	"github.com/mcpauth/mcpauth/token"
)

// Token type and grant type identifiers (RFC 8693 §3, SEP-990 §4).
const (
	// TokenTypeIDJAG is the requested and issued token type: an Identity
	// Assertion JWT Authorization Grant.
	TokenTypeIDJAG = "urn:ietf:params:oauth:token-type:id-jag"
	// TokenTypeIDToken is an OpenID Connect ID Token as subject token.
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	// TokenTypeSAML2 is a SAML 2.0 assertion as subject token.
	TokenTypeSAML2 = "urn:ietf:params:oauth:token-type:saml2"
	// GrantTypeTokenExchange is the token exchange grant (RFC 8693 §2.1).
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// IdP is the enterprise identity provider, where the client exchanges the
// user's identity assertion for an ID-JAG.
type IdP struct {
	// TokenEndpoint is the IdP's token endpoint. When empty, it is
	// discovered from Issuer's metadata (RFC 8414, OpenID Connect
	// Discovery).
	TokenEndpoint string
	// Issuer is the IdP's issuer identifier, for discovery.
	Issuer string
	// Auth authenticates the client at the IdP: the client it signed the
	// user in with (SEP-990 §4), such as token.None{ClientID: ...},
	// token.SecretBasic or a jwtauth.Auth. Nil sends no client
	// authentication.
	Auth token.ClientAuth
	// HTTPClient sends the requests; nil means a client with a 30 s
	// timeout. The token exchange follows redirects only within the
	// token endpoint's origin (a 307 would resend the subject token).
	HTTPClient *http.Client
}

// ExchangeRequest is an ID-JAG request (SEP-990 §4).
type ExchangeRequest struct {
	// SubjectToken is the user's identity assertion, such as the ID
	// Token from single sign-on.
	SubjectToken string
	// SubjectTokenType is its type; empty means TokenTypeIDToken.
	SubjectTokenType string
	// Audience is the issuer identifier of the MCP server's
	// authorization server.
	Audience string
	// Resource is the MCP server's resource identifier (RFC 9728).
	Resource string
	// Scopes requested at the MCP server; nil omits the parameter.
	Scopes []string
}

// Assertion is an ID-JAG issued by the IdP (SEP-990 §4.2).
type Assertion struct {
	// JWT is the ID-JAG, to present with the JWT bearer grant. It is a
	// credential: never log it.
	JWT string
	// Scopes granted, when the IdP says; nil when it granted what was
	// asked.
	Scopes []string
	// Expiry, when the IdP says; zero when unknown.
	Expiry time.Time
}

// Exchange asks the IdP for an ID-JAG (RFC 8693 token exchange). A
// refusal is returned as a *token.Error naming the IdP's token endpoint
// and its error code, such as invalid_grant for an expired ID Token.
func (p *IdP) Exchange(ctx context.Context, r ExchangeRequest) (*Assertion, error) {
	switch {
	case r.SubjectToken == "":
		return nil, errors.New("idjag: no subject token (the user's identity assertion from single sign-on)")
	case r.Audience == "":
		return nil, errors.New("idjag: no audience (the MCP server's authorization server issuer)")
	case r.Resource == "":
		return nil, errors.New("idjag: no resource (the MCP server's resource identifier)")
	}
	endpoint, err := p.tokenEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	stt := r.SubjectTokenType
	if stt == "" {
		stt = TokenTypeIDToken
	}
	form := url.Values{
		"grant_type":           {GrantTypeTokenExchange},
		"requested_token_type": {TokenTypeIDJAG},
		"audience":             {r.Audience},
		"resource":             {r.Resource},
		"subject_token":        {r.SubjectToken},
		"subject_token_type":   {stt},
	}
	if len(r.Scopes) > 0 {
		form.Set("scope", scope.Join(r.Scopes))
	}
	ep := token.Endpoint{URL: endpoint, Auth: p.Auth, Client: p.client()}
	raw, err := ep.Post(ctx, "token exchange", form)
	if err != nil {
		var te *token.Error
		if errors.As(err, &te) && te.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("idjag: the IdP refused the token exchange: %w", err)
		}
		return nil, fmt.Errorf("idjag: token exchange at %s: %w", endpoint, err)
	}
	return parseAssertion(endpoint, http.StatusOK, raw)
}

// exchangeResponse is the RFC 8693 §2.2.1 response.
type exchangeResponse struct {
	AccessToken     string          `json:"access_token"`
	IssuedTokenType string          `json:"issued_token_type"`
	TokenType       string          `json:"token_type"`
	Scope           string          `json:"scope"`
	ExpiresIn       json.RawMessage `json:"expires_in"`
}

func parseAssertion(endpoint string, status int, raw []byte) (*Assertion, error) {
	var r exchangeResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("idjag: token exchange: %w", &token.Error{Endpoint: endpoint, StatusCode: status, Reason: "the response is not a JSON token exchange response"})
	}
	if r.IssuedTokenType != TokenTypeIDJAG {
		return nil, fmt.Errorf("idjag: token exchange: %w", &token.Error{Endpoint: endpoint, StatusCode: status,
			Reason: fmt.Sprintf("the IdP issued a token of type %q, not an ID-JAG (%s)", r.IssuedTokenType, TokenTypeIDJAG)})
	}
	if r.AccessToken == "" {
		return nil, fmt.Errorf("idjag: token exchange: %w", &token.Error{Endpoint: endpoint, StatusCode: status, Reason: "the response lacks access_token (the ID-JAG)"})
	}
	a := &Assertion{JWT: r.AccessToken, Scopes: scope.Parse(r.Scope)}
	var secs float64
	if len(r.ExpiresIn) > 0 && json.Unmarshal(r.ExpiresIn, &secs) == nil && secs > 0 {
		a.Expiry = time.Now().Add(time.Duration(secs * float64(time.Second)))
	}
	return a, nil
}

func (p *IdP) client() *http.Client {
	if p.HTTPClient != nil {
		return p.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// tokenEndpoint returns the configured token endpoint, or the one the
// IdP's metadata names.
func (p *IdP) tokenEndpoint(ctx context.Context) (string, error) {
	endpoint := p.TokenEndpoint
	if endpoint == "" {
		if p.Issuer == "" {
			return "", errors.New("idjag: neither the IdP's token endpoint nor its issuer is configured")
		}
		f := &discovery.Fetcher{Client: p.client()}
		md, err := f.ServerMetadata(ctx, p.Issuer)
		if err != nil {
			return "", fmt.Errorf("idjag: discovering the IdP's token endpoint: %w", err)
		}
		if md.TokenEndpoint == "" {
			return "", fmt.Errorf("idjag: the IdP %s publishes no token_endpoint", p.Issuer)
		}
		endpoint = md.TokenEndpoint
	}
	if _, err := urlcheck.HTTPSOrLoopback("IdP token_endpoint", endpoint); err != nil {
		return "", fmt.Errorf("idjag: %w", err)
	}
	return endpoint, nil
}
