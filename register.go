package mcpauth

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/scope"
)

// DefaultClientName names the client when Config.Client sets none.
const DefaultClientName = "mcpauth"

// clientMetadata returns the metadata this client registers with, its
// redirect URI set to the Step's.
func (t *Transport) clientMetadata(redirectURI string) registration.Metadata {
	m := t.cfg.Client
	if m.ClientName == "" {
		m.ClientName = DefaultClientName
	}
	if len(m.RedirectURIs) == 0 && redirectURI != "" {
		m.RedirectURIs = []string{redirectURI}
	}
	return m.Defaults(!t.cfg.DisableRefreshTokens)
}

// clientFor returns the client identity to use at the server md, in the
// order of REG-2: a pre-registered client for this issuer; a stored
// registration that still fits; a client ID metadata document; dynamic
// registration. reused reports that nothing new was registered.
func (t *Transport) clientFor(ctx context.Context, md *discovery.ServerMetadata, stored *registration.Client, meta registration.Metadata, scopes []string, redirectURI string) (c *registration.Client, reused bool, err error) {
	if pre, ok := t.cfg.PreRegistered[md.Issuer]; ok {
		c = &registration.Client{
			Kind: registration.PreRegistered, Issuer: md.Issuer, ID: pre.ClientID, Secret: pre.Secret,
			AuthMethod: pre.AuthMethod, GrantTypes: pre.GrantTypes,
		}
		if pre.RedirectURI != "" {
			c.RedirectURIs = []string{pre.RedirectURI}
		}
		t.emit(Event{Kind: EventRegistration, Client: c, Reused: true, Message: "using the pre-registered client configured for " + md.Issuer})
		return c, true, nil
	}
	if stored != nil && t.storedFits(stored, md, meta, scopes, redirectURI) {
		t.emit(Event{Kind: EventRegistration, Client: stored, Reused: true, Message: fmt.Sprintf("reusing the stored %s client registration at %s", stored.Kind, md.Issuer)})
		return stored, true, nil
	}
	if t.cfg.ClientIDMetadataURL != "" && md.ClientIDMetadataDocumentSupported {
		c, err = registration.MetadataDocumentClient(md.Issuer, t.cfg.ClientIDMetadataURL, meta)
		if err != nil {
			return nil, false, err
		}
		t.emit(Event{Kind: EventRegistration, Client: c, Message: "using the client ID metadata document " + c.ID + " (the server supports them)"})
		return c, false, nil
	}
	if md.RegistrationEndpoint != "" {
		// The registered scope must cover what is requested, or be left
		// out: servers treat it as an allow-list.
		if meta.Scope != "" {
			meta.Scope = scope.Join(scope.Union(scope.Parse(meta.Scope), scopes))
		}
		rctx, cancel := t.requestContext(ctx)
		c, err = registration.Register(rctx, t.hc, md.Issuer, md.RegistrationEndpoint, meta)
		cancel()
		if err != nil {
			return nil, false, err
		}
		t.emit(Event{Kind: EventRegistration, Client: c, Message: fmt.Sprintf("registered a new client dynamically at %s (RFC 7591), grant types %q, application type %s", md.RegistrationEndpoint, c.GrantTypes, meta.ApplicationType)})
		return c, false, nil
	}
	return nil, false, &NoRegistrationMethodError{Issuer: md.Issuer, CIMDSupported: md.ClientIDMetadataDocumentSupported}
}

// storedFits reports whether a stored registration can serve this
// authorization: same issuer (AS-2), secret not expired, still the kind
// of client this configuration would use, registered grant types and scope
// covering the request, and a matching redirect URI.
func (t *Transport) storedFits(c *registration.Client, md *discovery.ServerMetadata, meta registration.Metadata, scopes []string, redirectURI string) bool {
	if c.Issuer != md.Issuer || c.Kind == registration.PreRegistered || c.Expired(t.now()) {
		return false
	}
	if c.Kind == registration.MetadataDocument && c.ID != t.cfg.ClientIDMetadataURL {
		return false
	}
	if !c.Fits(scopes, meta.GrantTypes) {
		return false
	}
	return redirectFits(c.RedirectURIs, redirectURI)
}

// redirectFits reports whether redirectURI is one of the registered ones,
// counting a loopback URI that differs only in port as the same (RFC 8252
// §7.3 requires servers to accept any port there).
func redirectFits(registered []string, redirectURI string) bool {
	if slices.Contains(registered, redirectURI) {
		return true
	}
	want, err := url.Parse(redirectURI)
	if err != nil || want.Scheme != "http" || !urlcheck.IsLoopbackHost(want.Hostname()) {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "http" && u.Hostname() == want.Hostname() && u.Path == want.Path {
			return true
		}
	}
	return false
}

// grantTypesFor returns the grant types the client at issuer will hold:
// a pre-registered client's declared ones, else the ones registered with.
func (t *Transport) grantTypesFor(issuer string, meta registration.Metadata) []string {
	if pre, ok := t.cfg.PreRegistered[issuer]; ok {
		return pre.GrantTypes
	}
	return meta.GrantTypes
}

// requestContext bounds one OAuth request by Config.Timeout, when set.
func (t *Transport) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.cfg.Timeout > 0 {
		return context.WithTimeout(ctx, t.cfg.Timeout)
	}
	return context.WithCancel(ctx)
}
