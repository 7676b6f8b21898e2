package oauthtest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// ResourceConfig configures a [Resource]. The zero value is a protected
// MCP endpoint at /mcp with RFC 9728 metadata at the path-inserted
// well-known URL, listing no authorization server.
type ResourceConfig struct {
	// Path of the MCP endpoint; default "/mcp".
	Path string
	// AS are the authorization servers listed in the metadata, in order.
	// Tokens any of them issued are accepted.
	AS []*AS
	// Resource is the metadata's resource; "" means the endpoint's URL.
	Resource string
	// ScopesSupported is the metadata's scopes_supported; nil omits it.
	ScopesSupported []string

	// NoPRM serves no protected resource metadata (a 2025-03-26 server).
	NoPRM bool
	// PRMPaths are the paths the metadata is served at; nil means the
	// path-inserted one for the endpoint.
	PRMPaths []string
	// PRM, if set, edits the metadata document before it is served.
	PRM func(doc map[string]any)

	// ChallengeResourceMetadata names the first metadata URL in the 401
	// challenge's resource_metadata parameter.
	ChallengeResourceMetadata bool
	// ChallengeScope is the 401 challenge's scope parameter; "" omits it.
	ChallengeScope string
	// Challenge, if set, replaces the whole WWW-Authenticate value of 401
	// answers.
	Challenge string

	// RequiredScopes must all be granted to the token, else the answer is
	// 403 insufficient_scope naming them (STEP-1).
	RequiredScopes []string
	// Handler serves authorized requests; nil answers 200 with the request
	// body echoed.
	Handler http.HandlerFunc
}

// Resource is a fake protected MCP server.
type Resource struct {
	*Server
	// URL is the MCP endpoint's URL.
	URL  string
	Path string

	mu      sync.Mutex
	cfg     ResourceConfig
	prmPath []string
}

// NewResource starts a fake MCP server on its own [Server].
func NewResource(t testing.TB, cfg ResourceConfig) *Resource {
	return MountResource(NewServer(t), cfg)
}

// MountResource adds a fake MCP server to s.
func MountResource(s *Server, cfg ResourceConfig) *Resource {
	if cfg.Path == "" {
		cfg.Path = "/mcp"
	}
	r := &Resource{Server: s, URL: s.URL + cfg.Path, Path: cfg.Path}
	s.Handle(cfg.Path, r.serveMCP)
	r.Configure(func(c *ResourceConfig) { *c = cfg })
	return r
}

// Configure changes the configuration; Path cannot change.
func (r *Resource) Configure(f func(*ResourceConfig)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.cfg)
	r.cfg.Path = r.Path
	for _, p := range r.prmPath {
		r.Server.Unhandle(p)
	}
	r.prmPath = nil
	if r.cfg.NoPRM {
		return
	}
	r.prmPath = r.cfg.PRMPaths
	if r.prmPath == nil {
		r.prmPath = []string{"/.well-known/oauth-protected-resource" + strings.TrimSuffix(r.Path, "/")}
	}
	for _, p := range r.prmPath {
		r.Server.Handle(p, r.servePRM)
	}
}

func (r *Resource) config() (ResourceConfig, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg, r.prmPath
}

// MetadataURL returns the URL of the first metadata location, or "".
func (r *Resource) MetadataURL() string {
	_, paths := r.config()
	if len(paths) == 0 {
		return ""
	}
	return r.Server.URL + paths[0]
}

// MetadataDocument returns the protected resource metadata as served.
func (r *Resource) MetadataDocument() map[string]any {
	cfg, _ := r.config()
	servers := []string{}
	for _, a := range cfg.AS {
		servers = append(servers, a.Issuer)
	}
	resource := cfg.Resource
	if resource == "" {
		resource = r.URL
	}
	doc := map[string]any{
		"resource":                 resource,
		"authorization_servers":    servers,
		"bearer_methods_supported": []string{"header"},
	}
	if cfg.ScopesSupported != nil {
		doc["scopes_supported"] = cfg.ScopesSupported
	}
	if cfg.PRM != nil {
		cfg.PRM(doc)
	}
	return doc
}

func (r *Resource) servePRM(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, r.MetadataDocument())
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(h http.Header) string {
	scheme, tok, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return tok
}

func (r *Resource) serveMCP(w http.ResponseWriter, req *http.Request) {
	cfg, paths := r.config()
	var info TokenInfo
	ok := false
	if tok := BearerToken(req.Header); tok != "" {
		for _, a := range cfg.AS {
			if info, ok = a.Lookup(tok); ok {
				break
			}
		}
	}
	if !ok {
		challenge := cfg.Challenge
		if challenge == "" {
			var params []string
			if cfg.ChallengeResourceMetadata && len(paths) > 0 {
				params = append(params, fmt.Sprintf("resource_metadata=%q", r.Server.URL+paths[0]))
			}
			if cfg.ChallengeScope != "" {
				params = append(params, fmt.Sprintf("scope=%q", cfg.ChallengeScope))
			}
			challenge = strings.TrimSpace("Bearer " + strings.Join(params, ", "))
		}
		w.Header().Set("WWW-Authenticate", challenge)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	for _, s := range cfg.RequiredScopes {
		if !slices.Contains(info.Scopes, s) {
			w.Header().Set("WWW-Authenticate", InsufficientScope(strings.Join(cfg.RequiredScopes, " ")))
			http.Error(w, "insufficient scope", http.StatusForbidden)
			return
		}
	}
	if cfg.Handler != nil {
		cfg.Handler(w, req)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, req.Body)
}

// InsufficientScope returns a WWW-Authenticate value for a 403 that asks
// for scope (RFC 6750 §3.1).
func InsufficientScope(scope string) string {
	return fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, error_description="more scope needed"`, scope)
}

// MCPRequests returns the requests to the MCP endpoint.
func (r *Resource) MCPRequests() []*Request { return r.RequestsTo(r.Path) }
