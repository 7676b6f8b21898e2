package registration

import (
	"fmt"
	"net/url"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// MetadataDocumentClient returns the client identity of a Client ID
// Metadata Document (REG-3): the client_id is the https URL the document
// is served at. md describes what the document declares.
func MetadataDocumentClient(issuer, documentURL string, md Metadata) (*Client, error) {
	if err := CheckDocumentURL(documentURL); err != nil {
		return nil, err
	}
	return &Client{
		Kind:         MetadataDocument,
		Issuer:       issuer,
		ID:           documentURL,
		AuthMethod:   firstNonEmpty(md.TokenEndpointAuthMethod, AuthNone),
		GrantTypes:   md.GrantTypes,
		Scope:        md.Scope,
		RedirectURIs: md.RedirectURIs,
	}, nil
}

// CheckDocumentURL checks that a client ID metadata document URL is an
// https URL with a path (REG-3); http is accepted on loopback, for
// development.
func CheckDocumentURL(documentURL string) error {
	u, err := urlcheck.HTTPSOrLoopback("client ID metadata document URL", documentURL)
	if err != nil {
		return err
	}
	if u.Path == "" || u.Path == "/" {
		return &urlcheck.Error{Role: "client ID metadata document URL", URL: documentURL, Reason: "it must have a path"}
	}
	if u.RawQuery != "" {
		return &urlcheck.Error{Role: "client ID metadata document URL", URL: documentURL, Reason: "it must not have a query"}
	}
	return nil
}

// Document returns the Client ID Metadata Document to serve at
// documentURL: md with client_id set to that URL byte for byte, which
// must hold client_name and redirect_uris (REG-3).
func Document(documentURL string, md Metadata) (Metadata, error) {
	if err := CheckDocumentURL(documentURL); err != nil {
		return Metadata{}, err
	}
	if md.ClientName == "" || len(md.RedirectURIs) == 0 {
		return Metadata{}, fmt.Errorf("a client ID metadata document needs client_name and redirect_uris")
	}
	for _, r := range md.RedirectURIs {
		if _, err := url.Parse(r); err != nil {
			return Metadata{}, fmt.Errorf("bad redirect URI %q: %w", r, err)
		}
	}
	md.ClientID = documentURL
	return md, nil
}
