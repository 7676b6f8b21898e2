// Package store keeps what an MCP client needs to resume without a login:
// tokens, client registrations and discovery results.
//
// Records are keyed by the MCP server's resource URI and the authorization
// server's issuer (AS-2): credentials minted by one authorization server
// are never handed to another. Implementations: [Memory] here, and the
// persistent ones in this package's other files.
package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// ErrNotFound is returned by Load for a key with no record.
var ErrNotFound = errors.New("no stored credentials")

// Key identifies a record.
type Key struct {
	// Resource is the MCP server URL the client was configured with.
	Resource string `json:"resource"`
	// Issuer of the authorization server.
	Issuer string `json:"issuer"`
}

// Record is everything kept for one MCP server at one authorization server.
type Record struct {
	Key
	// CanonicalResource is the protected resource metadata's resource, the
	// value sent as the resource parameter (RES-1).
	CanonicalResource string `json:"canonical_resource,omitempty"`
	// Token is the current grant; nil when none is held.
	Token *token.Token `json:"token,omitempty"`
	// Client is the client identity at the issuer.
	Client *registration.Client `json:"client,omitempty"`
	// ResourceMetadata and ServerMetadata are the discovery results,
	// fetched at DiscoveredAt.
	ResourceMetadata *discovery.ResourceMetadata `json:"resource_metadata,omitempty"`
	ServerMetadata   *discovery.ServerMetadata   `json:"server_metadata,omitempty"`
	DiscoveredAt     time.Time                   `json:"discovered_at,omitzero"`
	// RequestedScopes were requested by the last authorization, the base
	// of a step-up (STEP-1).
	RequestedScopes []string `json:"requested_scopes,omitempty"`
	// OmitResourceOnRefresh records that this issuer rejected the resource
	// parameter on refresh, so refreshes leave it out.
	OmitResourceOnRefresh bool `json:"omit_resource_on_refresh,omitempty"`
	// Extensions holds extension state, such as a DPoP key, by name.
	Extensions map[string][]byte `json:"extensions,omitempty"`
	UpdatedAt  time.Time         `json:"updated_at,omitzero"`
}

// Clone returns a deep copy of r: changing the copy, its token, client,
// metadata or any slice in them never changes r.
func (r *Record) Clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	c.RequestedScopes = slices.Clone(r.RequestedScopes)
	if r.Token != nil {
		t := *r.Token
		t.Scope = slices.Clone(t.Scope)
		c.Token = &t
	}
	if r.Client != nil {
		cl := *r.Client
		cl.GrantTypes = slices.Clone(cl.GrantTypes)
		cl.RedirectURIs = slices.Clone(cl.RedirectURIs)
		c.Client = &cl
	}
	if r.ResourceMetadata != nil {
		m := *r.ResourceMetadata
		m.AuthorizationServers = slices.Clone(m.AuthorizationServers)
		m.ScopesSupported = slices.Clone(m.ScopesSupported)
		m.BearerMethodsSupported = slices.Clone(m.BearerMethodsSupported)
		m.DPoPSigningAlgValuesSupported = slices.Clone(m.DPoPSigningAlgValuesSupported)
		c.ResourceMetadata = &m
	}
	if r.ServerMetadata != nil {
		m := *r.ServerMetadata // its slices are never modified in place; copy the struct
		m.ScopesSupported = slices.Clone(m.ScopesSupported)
		c.ServerMetadata = &m
	}
	if r.Extensions != nil {
		c.Extensions = make(map[string][]byte, len(r.Extensions))
		for k, v := range r.Extensions {
			c.Extensions[k] = append([]byte(nil), v...)
		}
	}
	return &c
}

// Store keeps records. Implementations are safe for concurrent use, and a
// store shared between processes makes Update atomic across them too.
type Store interface {
	// Load returns the record for key, or ErrNotFound.
	Load(ctx context.Context, key Key) (*Record, error)
	// List returns every record, in no particular order.
	List(ctx context.Context) ([]*Record, error)
	// Update reads the record for key (nil if none), passes a copy to fn,
	// and stores what fn returns, all under one lock: no other Update of
	// the same store runs in between, in this process or another. If fn
	// returns a nil record the key is deleted; if it returns an error
	// nothing changes and Update returns that error.
	Update(ctx context.Context, key Key, fn func(*Record) (*Record, error)) (*Record, error)
	// Delete removes the record for key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key Key) error
}
