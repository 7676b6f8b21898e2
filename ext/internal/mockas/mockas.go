// Package mockas runs, for the extensions' tests, an MCP server and its
// authorization server on 127.0.0.1: protected resource metadata, server
// metadata, a token endpoint whose behaviour each test supplies, and an
// MCP endpoint that accepts the tokens issued.
package mockas

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Server is an authorization server (AS) and a resource server (RS).
type Server struct {
	AS *httptest.Server
	RS *httptest.Server
	// Metadata overrides fields of the AS metadata; a nil value removes
	// the field.
	Metadata map[string]any
	// Token answers token requests, with r's form parsed. Nil issues a
	// Bearer token.
	Token func(w http.ResponseWriter, r *http.Request)
	// Resource, if set, checks a request to the MCP endpoint that carries
	// a token this server issued; it writes a response and reports
	// whether it did. When it returns false the request succeeds.
	Resource func(w http.ResponseWriter, r *http.Request, token string) bool

	mu          sync.Mutex
	issued      map[string]bool
	tokenCalls  int
	mcpRequests int
}

// New starts the servers; they stop when the test ends.
func New(t testing.TB) *Server {
	s := &Server{issued: map[string]bool{}}
	s.AS = httptest.NewServer(http.HandlerFunc(s.serveAS))
	s.RS = httptest.NewServer(http.HandlerFunc(s.serveRS))
	t.Cleanup(func() { s.AS.Close(); s.RS.Close() })
	return s
}

// MCPURL is the MCP endpoint, and the protected resource identifier.
func (s *Server) MCPURL() string { return s.RS.URL + "/mcp" }

// Issuer is the AS issuer identifier.
func (s *Server) Issuer() string { return s.AS.URL }

// TokenEndpoint is the AS token endpoint.
func (s *Server) TokenEndpoint() string { return s.AS.URL + "/token" }

// TokenCalls returns how many token requests arrived.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// MCPRequests returns how many requests reached the MCP endpoint.
func (s *Server) MCPRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mcpRequests
}

// Issue writes a token response and remembers the access token as
// valid; it returns the access token. fields adds to (or overrides) the
// response.
func (s *Server) Issue(w http.ResponseWriter, tokenType string, fields map[string]any) string {
	s.mu.Lock()
	tok := fmt.Sprintf("at-%d", len(s.issued)+1)
	s.issued[tok] = true
	s.mu.Unlock()
	body := map[string]any{"access_token": tok, "token_type": tokenType, "expires_in": 3600}
	for k, v := range fields {
		body[k] = v
	}
	WriteJSON(w, http.StatusOK, body)
	return tok
}

// Error writes an OAuth error response (RFC 6749 §5.2).
func Error(w http.ResponseWriter, status int, code, description string) {
	WriteJSON(w, status, map[string]any{"error": code, "error_description": description})
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serveAS(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server":
		md := map[string]any{
			"issuer":                                s.AS.URL,
			"authorization_endpoint":                s.AS.URL + "/authorize",
			"token_endpoint":                        s.AS.URL + "/token",
			"code_challenge_methods_supported":      []string{"S256"},
			"response_types_supported":              []string{"code"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		}
		for k, v := range s.Metadata {
			if v == nil {
				delete(md, k)
			} else {
				md[k] = v
			}
		}
		WriteJSON(w, http.StatusOK, md)
	case "/authorize":
		// Approves at once, as the conformance harness's server does.
		q := r.URL.Query()
		to, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || to.Hostname() != "127.0.0.1" {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		v := to.Query()
		v.Set("code", "code-1")
		v.Set("state", q.Get("state"))
		v.Set("iss", s.AS.URL)
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	case "/token":
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			Error(w, http.StatusBadRequest, "invalid_request", "bad form")
			return
		}
		s.mu.Lock()
		s.tokenCalls++
		s.mu.Unlock()
		if s.Token == nil {
			s.Issue(w, "Bearer", nil)
			return
		}
		s.Token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveRS(w http.ResponseWriter, r *http.Request) {
	prm := s.RS.URL + "/.well-known/oauth-protected-resource/mcp"
	switch r.URL.Path {
	case "/.well-known/oauth-protected-resource/mcp":
		WriteJSON(w, http.StatusOK, map[string]any{"resource": s.MCPURL(), "authorization_servers": []string{s.AS.URL}})
	case "/mcp":
		s.mu.Lock()
		s.mcpRequests++
		s.mu.Unlock()
		_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		ok := s.issued[tok]
		s.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer resource_metadata=%q`, prm))
			WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
			return
		}
		if s.Resource != nil && s.Resource(w, r, tok) {
			return
		}
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true})
	default:
		http.NotFound(w, r)
	}
}

// Form returns a copy of the request's parsed form, for assertions.
func Form(r *http.Request) url.Values {
	out := url.Values{}
	for k, v := range r.PostForm {
		out[k] = append([]string(nil), v...)
	}
	return out
}
