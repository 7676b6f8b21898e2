package authserver

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ClientMetadata is RFC 7591 §2 client metadata, as sent to the registration
// endpoint or published in a client ID metadata document.
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	// ApplicationType is "web" (the default, OpenID Connect Dynamic
	// Registration §2) or "native"; only native clients get RFC 8252 §7.3
	// loopback redirects with any port.
	ApplicationType string `json:"application_type,omitempty"`
	ClientName      string `json:"client_name,omitempty"`
	ClientURI       string `json:"client_uri,omitempty"`
	LogoURI         string `json:"logo_uri,omitempty"`
	// Scope, when set, is the only scope the client may ever request.
	Scope string `json:"scope,omitempty"`
}

// metadataError is an RFC 7591 §3.2.2 error.
type metadataError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *metadataError) Error() string { return e.Code + ": " + e.Description }

func badMetadata(format string, args ...any) *metadataError {
	return &metadataError{Code: "invalid_client_metadata", Description: fmt.Sprintf(format, args...)}
}

func badRedirect(format string, args ...any) *metadataError {
	return &metadataError{Code: "invalid_redirect_uri", Description: fmt.Sprintf(format, args...)}
}

// normalize applies defaults and checks md. defaultAuth and defaultApp fill
// token_endpoint_auth_method and application_type when absent.
func (s *storage) normalize(md ClientMetadata, defaultAuth oidc.AuthMethod, defaultApp string) (ClientMetadata, *metadataError) {
	if len(md.RedirectURIs) == 0 {
		return md, badRedirect("redirect_uris is required")
	}
	for _, u := range md.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return md, badRedirect("%s: %v", u, err)
		}
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{string(oidc.GrantTypeCode)}
	}
	for _, g := range md.GrantTypes {
		if g != string(oidc.GrantTypeCode) && g != string(oidc.GrantTypeRefreshToken) {
			return md, badMetadata("grant type %q is not supported", g)
		}
	}
	if !slices.Contains(md.GrantTypes, string(oidc.GrantTypeCode)) {
		return md, badMetadata("grant_types must include authorization_code")
	}
	if s.cfg.DisableRefreshTokens {
		// RFC 7591 §3.2.1: the server may replace requested values.
		md.GrantTypes = slices.DeleteFunc(md.GrantTypes, func(g string) bool { return g == string(oidc.GrantTypeRefreshToken) })
	}
	if len(md.ResponseTypes) == 0 {
		md.ResponseTypes = []string{string(oidc.ResponseTypeCode)}
	}
	for _, rt := range md.ResponseTypes {
		if rt != string(oidc.ResponseTypeCode) {
			return md, badMetadata("response type %q is not supported", rt)
		}
	}
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = string(defaultAuth)
	}
	switch oidc.AuthMethod(md.TokenEndpointAuthMethod) {
	case oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost:
	default:
		return md, badMetadata("token_endpoint_auth_method %q is not supported", md.TokenEndpointAuthMethod)
	}
	if md.ApplicationType == "" {
		md.ApplicationType = defaultApp
	}
	if md.ApplicationType != "web" && md.ApplicationType != "native" {
		return md, badMetadata("application_type must be web or native")
	}
	known := s.cfg.supportedScopes()
	for _, sc := range strings.Fields(md.Scope) {
		if !slices.Contains(known, sc) {
			return md, badMetadata("scope %q is not supported", sc)
		}
	}
	return md, nil
}

// newClient turns normalized metadata into a client.
func (s *storage) newClient(id string, md ClientMetadata, secretHash [32]byte, viaCIMD bool) *client {
	c := &client{
		id:           id,
		secretHash:   secretHash,
		name:         md.ClientName,
		redirectURIs: slices.Clone(md.RedirectURIs),
		authMethod:   oidc.AuthMethod(md.TokenEndpointAuthMethod),
		knownScopes:  s.cfg.supportedScopes(),
		loginURL:     s.issuer + "/login",
		viaCIMD:      viaCIMD,
	}
	for _, g := range md.GrantTypes {
		c.grantTypes = append(c.grantTypes, oidc.GrantType(g))
	}
	for _, rt := range md.ResponseTypes {
		c.responseTypes = append(c.responseTypes, oidc.ResponseType(rt))
	}
	c.applicationType = op.ApplicationTypeWeb
	if md.ApplicationType == "native" {
		c.applicationType = op.ApplicationTypeNative
	}
	if md.Scope != "" {
		c.allowedScopes = strings.Fields(md.Scope)
	}
	return c
}

// checkRedirectURI accepts https URLs and loopback http URLs (RFC 8252 §7.3,
// §8.3; OAuth 2.1 §2.3.1), without fragment (RFC 6749 §3.1.2).
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("must not contain a fragment")
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("http is only allowed for loopback hosts")
	default:
		return fmt.Errorf("scheme must be https, or http on loopback")
	}
}

// isLoopbackHost reports 127.0.0.0/8, ::1 and "localhost".
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
