package authserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Server is a running authorization server.
type Server struct {
	cfg      Config
	issuer   string
	log      *slog.Logger
	ln       net.Listener
	http     *http.Server
	provider *op.Provider
	authz    authorizer
	store    *storage
	stats    *counters

	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New prepares a server: it binds the listen address (so [Server.Issuer] is
// known) and builds the provider, but serves nothing until [Server.Start].
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("authserver: address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("authserver: address %q is not a loopback IP: the issuer is plain http", cfg.Addr)
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	s := &Server{cfg: cfg, issuer: "http://" + ln.Addr().String(), log: cfg.Logger, ln: ln, stats: &counters{}}
	s.store = newStorage(cfg, s.issuer, key, s.stats)
	opCfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: !cfg.DisableRefreshTokens,
		SupportedScopes:       cfg.supportedScopes(),
	}
	if _, err := rand.Read(opCfg.CryptoKey[:]); err != nil {
		ln.Close()
		return nil, err
	}
	s.provider, err = op.NewProvider(opCfg, s.store, op.StaticIssuer(s.issuer),
		op.WithAllowInsecure(), op.WithHttpInterceptors(s.routes))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("authserver: %w", err)
	}
	s.authz = authorizer{Provider: s.provider, s: s}
	s.http = &http.Server{Handler: s.provider, ReadHeaderTimeout: 10 * time.Second}
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
				s.log.Error("authserver stopped", slog.Any("error", err))
			}
		}()
		go func() {
			<-ctx.Done()
			s.Close()
		}()
		s.log.Info("authorization server listening", slog.String("issuer", s.issuer))
	})
}

// Close stops the server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.closeErr = s.http.Close()
		}
		s.ln.Close()
	})
	return s.closeErr
}

// Issuer is the issuer identifier, "http://127.0.0.1:PORT" (no path, no
// trailing slash).
func (s *Server) Issuer() string { return s.issuer }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// AddResource allows one more RFC 8707 resource indicator, e.g. an MCP
// server's URL once it is known.
func (s *Server) AddResource(uri string) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if !slices.Contains(s.store.resources, uri) {
		s.store.resources = append(s.store.resources, uri)
	}
}

// SetAccessTokenLifetime changes the lifetime of access tokens issued from
// now on, e.g. to let a test make the next token expire quickly.
func (s *Server) SetAccessTokenLifetime(d time.Duration) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	s.store.atLifetime = d
}

// routes puts this server's endpoints in front of op's router (it runs
// inside op's issuer interceptor, so op.IssuerFromContext works).
func (s *Server) routes(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleMetadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleMetadata)
	mux.HandleFunc("GET /authorize", s.handleAuthorize)
	mux.HandleFunc("POST /authorize", s.handleAuthorize)
	mux.HandleFunc("/authorize/callback", http.NotFound) // approval happens on /login only
	mux.HandleFunc("POST /oauth/token", s.handleToken)
	mux.HandleFunc("POST /register", s.handleRegister)
	mux.HandleFunc("GET /login", s.handleConsentPage)
	mux.Handle("POST /login", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.handleConsent)))
	for _, p := range []string{"/authorize", "/oauth/token", "/register", "/login"} {
		mux.HandleFunc(p, methodNotAllowed)
	}
	mux.Handle("/", next)
	return mux
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
