package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

const resourceDocument = "protected resource metadata"

// ResourceMetadata is an OAuth 2.0 Protected Resource Metadata document
// (RFC 9728 §2). Fields this client does not use are not kept.
type ResourceMetadata struct {
	Resource                      string   `json:"resource"`
	AuthorizationServers          []string `json:"authorization_servers,omitempty"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported        []string `json:"bearer_methods_supported,omitempty"`
	ResourceName                  string   `json:"resource_name,omitempty"`
	ResourceDocumentation         string   `json:"resource_documentation,omitempty"`
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	DPoPBoundAccessTokensRequired bool     `json:"dpop_bound_access_tokens_required,omitempty"`

	// URL is where the document was found. It is not part of RFC 9728's
	// document; it is kept so stored metadata says where it came from.
	URL string `json:"url,omitempty"`
}

// ResourceMismatchError reports a protected resource metadata document
// whose resource is not the MCP server the client talks to (RFC 9728 §3.3,
// PRM-4). The client must not use it: a server could otherwise make the
// client request tokens for another resource.
type ResourceMismatchError struct {
	MetadataURL string // where the document was found
	Resource    string // the document's resource
	ServerURL   string // the MCP server the client talks to
}

func (e *ResourceMismatchError) Error() string {
	return fmt.Sprintf("protected resource metadata at %s names resource %q, which does not match the MCP server %q (RFC 9728 §3.3); "+
		"the server's metadata is misconfigured, or the URL you gave is not the server's canonical URL", e.MetadataURL, e.Resource, e.ServerURL)
}

// MaxAuthorizationServers bounds the authorization_servers of protected
// resource metadata: the client may fetch the metadata of each, so a
// document listing thousands would make it probe thousands of URLs.
const MaxAuthorizationServers = 16

// ErrNoResourceMetadata means that no protected resource metadata was found
// at any well-known location: the server predates RFC 9728 support
// (PRM-5, the 2025-03-26 revision of MCP).
var ErrNoResourceMetadata = errors.New("no protected resource metadata found")

// ResourceMetadataURLs returns the URLs to try for serverURL's protected
// resource metadata, in order (PRM-3): the one a challenge named, if any;
// then the path-inserted well-known URI; then the root one. The well-known
// URIs follow a named one only as a fallback when it answers 4xx.
func ResourceMetadataURLs(serverURL, fromChallenge string) ([]string, error) {
	u, err := urlcheck.HTTPSOrLoopback("MCP server URL", serverURL)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, c := range []string{
		fromChallenge,
		wellKnownURL(u, "oauth-protected-resource"),
		wellKnownURL(&url.URL{Scheme: u.Scheme, Host: u.Host}, "oauth-protected-resource"),
	} {
		if c != "" && !slices.Contains(urls, c) {
			urls = append(urls, c)
		}
	}
	return urls, nil
}

// ResourceMetadata finds and validates the protected resource metadata of
// the MCP server at serverURL (PRM-1, PRM-3, PRM-4). fromChallenge is the
// resource_metadata parameter of the server's challenge, or "".
//
// The URLs of [ResourceMetadataURLs] are tried in order, moving on only
// when one answers with a 4xx status or with a body that is no JSON
// document at all (a catch-all HTML page); a network error, a 5xx, a
// malformed JSON document or a resource mismatch stops discovery. It
// returns ErrNoResourceMetadata (wrapped) when no location held a
// document.
func (f *Fetcher) ResourceMetadata(ctx context.Context, serverURL, fromChallenge string) (*ResourceMetadata, error) {
	urls, err := ResourceMetadataURLs(serverURL, fromChallenge)
	if err != nil {
		return nil, err
	}
	var failed probeErrors
	for _, u := range urls {
		md, err := f.fetchResourceMetadata(ctx, serverURL, u)
		if err == nil {
			return md, nil
		}
		failed = append(failed, err)
		if !fallsThrough(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w for %s: %w", ErrNoResourceMetadata, serverURL, failed)
}

func (f *Fetcher) fetchResourceMetadata(ctx context.Context, serverURL, metadataURL string) (md *ResourceMetadata, err error) {
	probe := Probe{Document: resourceDocument, URL: metadataURL}
	defer func() { probe.Err = err; f.trace(probe) }()

	if _, err := urlcheck.HTTPSOrLoopback("resource_metadata URL", metadataURL); err != nil {
		return nil, err
	}
	var body []byte
	probe.Status, body, err = f.get(ctx, resourceDocument, metadataURL)
	if err != nil {
		return nil, err
	}
	return ParseResourceMetadata(body, metadataURL, serverURL)
}

// ParseResourceMetadata decodes and checks a protected resource metadata
// document fetched from metadataURL for the MCP server at serverURL: it
// must be a JSON object whose resource matches the server (PRM-4) and whose
// authorization_servers are https or loopback http URLs (RDR-1). It is
// what [Fetcher.ResourceMetadata] does with each body it fetches.
func ParseResourceMetadata(body []byte, metadataURL, serverURL string) (*ResourceMetadata, error) {
	md := new(ResourceMetadata)
	if err := decodeDocument(resourceDocument, metadataURL, body, md); err != nil {
		return nil, err
	}
	md.URL = metadataURL
	if err := md.validate(serverURL); err != nil {
		return nil, err
	}
	return md, nil
}

func (md *ResourceMetadata) validate(serverURL string) error {
	if md.Resource == "" {
		return &DocumentError{Document: resourceDocument, URL: md.URL, Reason: "the required resource member is missing"}
	}
	if !ResourceMatches(md.Resource, serverURL) {
		return &ResourceMismatchError{MetadataURL: md.URL, Resource: md.Resource, ServerURL: serverURL}
	}
	if n := len(md.AuthorizationServers); n > MaxAuthorizationServers {
		return &DocumentError{Document: resourceDocument, URL: md.URL,
			Reason: fmt.Sprintf("it lists %d authorization_servers, more than the %d accepted (each would be probed)", n, MaxAuthorizationServers)}
	}
	for _, as := range md.AuthorizationServers {
		if _, err := urlcheck.HTTPSOrLoopback("authorization server issuer", as); err != nil {
			return &DocumentError{Document: resourceDocument, URL: md.URL, Reason: "bad authorization_servers entry", Err: err}
		}
	}
	return nil
}

// ResourceMatches reports whether a protected resource identifier covers
// the MCP server URL (PRM-4): same origin, and the resource's path equal to
// the server's path or a parent of it on a segment boundary. Scheme and
// host compare case-insensitively, default ports are ignored, and a
// terminating slash does not matter.
func ResourceMatches(resource, serverURL string) bool {
	r, err1 := url.Parse(resource)
	s, err2 := url.Parse(serverURL)
	if err1 != nil || err2 != nil || r.Host == "" || s.Host == "" {
		return false
	}
	if !urlcheck.SameOrigin(r, s) || r.RawQuery != "" || r.Fragment != "" {
		return false
	}
	rp, sp := trimTrailingSlash(r.EscapedPath()), trimTrailingSlash(s.EscapedPath())
	return rp == sp || rp == "" || strings.HasPrefix(sp, rp+"/")
}
