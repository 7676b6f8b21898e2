package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

const serverDocument = "authorization server metadata"

// ServerMetadata is an OAuth 2.0 Authorization Server Metadata document
// (RFC 8414 §2), which OpenID Connect Discovery 1.0 §3 extends. Fields this
// client does not use are not kept.
type ServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported: RFC 9207 §3.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// ClientIDMetadataDocumentSupported: OAuth Client ID Metadata Document,
	// as adopted by MCP (REG-2).
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`

	// URL is where the document was found; empty when Synthesized.
	URL string `json:"url,omitempty"`
	// Synthesized marks metadata made up by [DefaultServerMetadata] for a
	// server without any (PRM-5), not fetched.
	Synthesized bool `json:"synthesized,omitempty"`
}

// SupportsPKCE reports whether the server advertises the S256 code
// challenge method (PKCE-1). Synthesized metadata is assumed to.
func (md *ServerMetadata) SupportsPKCE() bool {
	return md.Synthesized || slices.Contains(md.CodeChallengeMethodsSupported, "S256")
}

// IssuerMismatchError reports metadata whose issuer differs from the issuer
// the metadata URL was built from (RFC 8414 §3.3, ASM-3). The metadata is
// not used: it would let one server impersonate another (mix-up).
type IssuerMismatchError struct {
	MetadataURL string
	Issuer      string // the document's issuer
	Want        string // the issuer the URL was built from
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("authorization server metadata at %s has issuer %q, but it was looked up for issuer %q; "+
		"they must be identical (RFC 8414 §3.3), so the metadata is not used — the authorization server or the resource's authorization_servers entry is misconfigured",
		e.MetadataURL, e.Issuer, e.Want)
}

// ErrNoServerMetadata means that no authorization server metadata was
// found at any well-known location.
var ErrNoServerMetadata = errors.New("no authorization server metadata found")

// ServerMetadataURLs returns the URLs to try for issuer's metadata, in
// order (ASM-1, ASM-2): RFC 8414 then OpenID Connect Discovery, both
// path-inserted, then OpenID Connect Discovery path-appended for an issuer
// with a path.
func ServerMetadataURLs(issuer string) ([]string, error) {
	u, err := urlcheck.HTTPSOrLoopback("authorization server issuer", issuer)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" {
		return nil, &urlcheck.Error{Role: "authorization server issuer", URL: issuer, Reason: "an issuer has no query (RFC 8414 §2)"}
	}
	urls := []string{
		wellKnownURL(u, "oauth-authorization-server"),
		wellKnownURL(u, "openid-configuration"),
	}
	if p := trimTrailingSlash(u.EscapedPath()); p != "" {
		appended := url.URL{Scheme: u.Scheme, Host: u.Host, RawPath: p + "/.well-known/openid-configuration"}
		appended.Path, _ = url.PathUnescape(appended.RawPath)
		urls = append(urls, appended.String())
	}
	return urls, nil
}

// ServerMetadata finds and validates the metadata of the authorization
// server identified by issuer (ASM-1, ASM-2, ASM-3). Locations are tried
// in order while they answer 4xx, answer with a body that is no JSON
// document at all (a catch-all HTML page), or hold metadata of another
// issuer.
// It returns an *IssuerMismatchError when only such metadata was found,
// and ErrNoServerMetadata (wrapped) when none was.
func (f *Fetcher) ServerMetadata(ctx context.Context, issuer string) (*ServerMetadata, error) {
	urls, err := ServerMetadataURLs(issuer)
	if err != nil {
		return nil, err
	}
	var mismatch *IssuerMismatchError
	var failed probeErrors
	for _, u := range urls {
		md, err := f.fetchServerMetadata(ctx, issuer, u)
		if err == nil {
			return md, nil
		}
		failed = append(failed, err)
		if errors.As(err, &mismatch) {
			continue
		}
		if !fallsThrough(err) {
			return nil, err
		}
	}
	if mismatch != nil {
		return nil, mismatch
	}
	return nil, fmt.Errorf("%w for issuer %s: %w", ErrNoServerMetadata, issuer, failed)
}

func (f *Fetcher) fetchServerMetadata(ctx context.Context, issuer, metadataURL string) (md *ServerMetadata, err error) {
	probe := Probe{Document: serverDocument, URL: metadataURL}
	defer func() { probe.Err = err; f.trace(probe) }()

	var body []byte
	probe.Status, body, err = f.get(ctx, serverDocument, metadataURL)
	if err != nil {
		return nil, err
	}
	return ParseServerMetadata(body, metadataURL, issuer)
}

// ParseServerMetadata decodes and checks an authorization server metadata
// document fetched from metadataURL, which was built from issuer: it must
// be a JSON object whose issuer is identical to issuer (ASM-3), with a
// token_endpoint, and whose endpoints are https or loopback http URLs
// (RDR-1, URL-1). It is what [Fetcher.ServerMetadata] does with each body
// it fetches.
func ParseServerMetadata(body []byte, metadataURL, issuer string) (*ServerMetadata, error) {
	md := new(ServerMetadata)
	if err := decodeDocument(serverDocument, metadataURL, body, md); err != nil {
		return nil, err
	}
	md.URL = metadataURL
	md.Synthesized = false // never taken from a document
	if md.Issuer != issuer {
		return nil, &IssuerMismatchError{MetadataURL: metadataURL, Issuer: md.Issuer, Want: issuer}
	}
	if err := md.validate(); err != nil {
		return nil, err
	}
	return md, nil
}

// validate checks every endpoint the client may call or open (URL-1).
func (md *ServerMetadata) validate() error {
	endpoints := []struct{ role, url string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"registration_endpoint", md.RegistrationEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
	}
	for _, e := range endpoints {
		if e.url == "" {
			continue
		}
		if _, err := urlcheck.HTTPSOrLoopback(e.role, e.url); err != nil {
			return &DocumentError{Document: serverDocument, URL: md.URL, Reason: "bad " + e.role, Err: err}
		}
	}
	if md.TokenEndpoint == "" {
		return &DocumentError{Document: serverDocument, URL: md.URL, Reason: "the required token_endpoint member is missing"}
	}
	return nil
}

// DefaultServerMetadata returns the endpoints the 2025-03-26 revision of
// MCP assigns to a server that publishes no metadata (PRM-5): /authorize,
// /token and /register at the origin of serverURL, which is the issuer.
func DefaultServerMetadata(serverURL string) (*ServerMetadata, error) {
	u, err := urlcheck.HTTPSOrLoopback("MCP server URL", serverURL)
	if err != nil {
		return nil, err
	}
	origin := u.Scheme + "://" + u.Host
	return &ServerMetadata{
		Issuer:                        origin,
		AuthorizationEndpoint:         origin + "/authorize",
		TokenEndpoint:                 origin + "/token",
		RegistrationEndpoint:          origin + "/register",
		CodeChallengeMethodsSupported: []string{"S256"},
		Synthesized:                   true,
	}, nil
}

// Origin returns the scheme and host of serverURL, the issuer a 2025-03-26
// server is assumed to be its own authorization server at (PRM-5).
func Origin(serverURL string) (string, error) {
	u, err := urlcheck.HTTPSOrLoopback("MCP server URL", serverURL)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host, nil
}
