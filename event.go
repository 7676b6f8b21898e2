package mcpauth

import (
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/scope"
)

// EventKind names a step of the authorization flow.
type EventKind string

// The steps an Observer is told of, in flow order.
const (
	EventResourceMetadata EventKind = "resource_metadata" // PRM found, or not (PRM-5)
	EventServerMetadata   EventKind = "server_metadata"   // AS metadata found or synthesized
	EventRegistration     EventKind = "registration"      // client identity chosen or created
	EventScope            EventKind = "scope"             // scopes selected
	EventAuthorization    EventKind = "authorization"     // the person's step finished
	EventToken            EventKind = "token"             // token received
	EventRefresh          EventKind = "refresh"           // token refreshed
	EventStepUp           EventKind = "step_up"           // 403 insufficient_scope, authorizing again
)

// An Event describes one step for a person. It never holds a token,
// secret, code or verifier.
type Event struct {
	Kind    EventKind
	Message string

	ResourceMetadata *discovery.ResourceMetadata
	ServerMetadata   *discovery.ServerMetadata
	// Client is the client identity, with its secret removed.
	Client *registration.Client
	// Reused reports, for EventRegistration, a stored registration reused.
	Reused bool
	// Scope is set for EventScope.
	Scope *scope.Selection
	// Token describes the token received, for EventToken and EventRefresh.
	Token *TokenInfo
}

// TokenInfo describes a token without revealing it.
type TokenInfo struct {
	Type            string   `json:"type"`
	Scope           []string `json:"scope,omitempty"`
	ExpiresIn       int64    `json:"expires_in_seconds,omitempty"`
	HasRefreshToken bool     `json:"has_refresh_token"`
	Issuer          string   `json:"issuer"`
}

func (t *Transport) emit(e Event) {
	if e.Client != nil {
		c := *e.Client
		c.Secret = ""
		e.Client = &c
	}
	t.log.Debug("mcpauth: "+string(e.Kind), "message", e.Message)
	if t.cfg.Observer != nil {
		t.cfg.Observer(e)
	}
}
