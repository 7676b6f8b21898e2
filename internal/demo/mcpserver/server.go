package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

const (
	mcpPath = "/mcp"
	// prmPath is the RFC 9728 §3.1 well-known URI with the resource's path
	// inserted.
	prmPath = "/.well-known/oauth-protected-resource" + mcpPath
	// ssePath serves the same server over the 2024-11-05 HTTP+SSE
	// transport. It lies under mcpPath, so the resource identifier (and
	// the PRM, the tokens and the bearer check) covers it too.
	ssePath = mcpPath + "/sse"
)

// Server is a running protected MCP server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	http   *http.Server
	url    string // the MCP endpoint, which is also the resource identifier
	prmURL string
	stats  *counters

	notesMu sync.Mutex
	notes   []string

	startOnce sync.Once
	closeOnce sync.Once
}

// New binds the listen address and builds the handlers; [Server.Start]
// serves. The authorization server need not be running yet: its metadata
// and keys are fetched on the first token.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.AuthServerIssuer == "" {
		return nil, errors.New("mcpserver: AuthServerIssuer is required")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	base := "http://" + ln.Addr().String()
	s := &Server{cfg: cfg, log: cfg.Logger, ln: ln, url: base + mcpPath, prmURL: base + prmPath, stats: &counters{}}

	srv := mcp.NewServer(&mcp.Implementation{Name: "mcpauth-demo", Version: "1.0.0"}, nil)
	s.addTools(srv)
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Logger: cfg.Logger})
	sse := mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, nil)

	verifier := &tokenVerifier{keys: &keySource{issuer: cfg.AuthServerIssuer, client: cfg.HTTPClient}, issuer: cfg.AuthServerIssuer, resource: s.url}
	bearer := auth.RequireBearerToken(verifier.verify, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: s.prmURL,
		Scopes:              []string{ScopeRead},
	})

	mux := http.NewServeMux()
	mux.Handle(mcpPath, s.withChallenges(bearer(s.scopeGuard(streamable))))
	mux.Handle(ssePath, s.withChallenges(bearer(s.scopeGuard(sse))))
	prm := s.countPRM(auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               s.url,
		AuthorizationServers:   []string{cfg.AuthServerIssuer},
		ScopesSupported:        []string{ScopeRead, ScopeWrite}, // never offline_access (SRV-2207)
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "mcpauth demo MCP server",
	}))
	mux.Handle(prmPath, prm)
	// The same document at the SSE endpoint's path-inserted well-known URI,
	// for a client that discovers without a challenge (PRM-3).
	mux.Handle("/.well-known/oauth-protected-resource"+ssePath, prm)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Start runs New and then serves until ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s.Start(ctx)
	return s, nil
}

// Start serves in the background until ctx ends or Close is called.
func (s *Server) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		go func() {
			if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("mcpserver stopped", slog.Any("error", err))
			}
		}()
		go func() {
			<-ctx.Done()
			s.Close()
		}()
		s.log.Info("MCP server listening", slog.String("url", s.url), slog.String("authorization_server", s.cfg.AuthServerIssuer))
	})
}

// Close stops the server; open streams are cut after a second.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if s.http.Shutdown(ctx) != nil {
			err = s.http.Close()
		}
		s.ln.Close()
	})
	return err
}

// URL is the MCP endpoint, "http://127.0.0.1:PORT/mcp"; it is also the
// resource identifier (PRM resource, token audience).
func (s *Server) URL() string { return s.url }

// SSEURL is the server's HTTP+SSE endpoint (the 2024-11-05 transport),
// "http://127.0.0.1:PORT/mcp/sse", for SSE clients such as go-sdk's
// mcp.SSEClientTransport. It is part of the resource URL() names: the same
// tokens, scopes and metadata apply.
func (s *Server) SSEURL() string { return s.url + "/sse" }

// ResourceMetadataURL is the RFC 9728 metadata URL named in challenges.
func (s *Server) ResourceMetadataURL() string { return s.prmURL }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Notes returns the notes stored by write-note.
func (s *Server) Notes() []string {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	return slices.Clone(s.notes)
}

func (s *Server) countPRM(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			s.stats.add(func(st *Stats) { st.PRMRequests++ })
		}
		next.ServeHTTP(w, r)
	})
}
