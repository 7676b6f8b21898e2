package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/replay"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
)

// Environment variables, besides store.HomeEnv (MCPAUTH_HOME, the
// directory of the configuration file and the credential store).
const (
	envStore        = "MCPAUTH_STORE"         // auto, keyring or file
	envConfig       = "MCPAUTH_CONFIG"        // the configuration file
	envClientSecret = "MCPAUTH_CLIENT_SECRET" // instead of --client-secret
)

// configFileName is the configuration file in the mcpauth home directory.
const configFileName = "config.json"

// globalOptions are the flags every command takes.
type globalOptions struct {
	configPath   string
	store        string
	storeDir     string
	verbose      bool
	clientID     string
	clientSecret string
	issuer       string
	authMethod   string
}

func (o *globalOptions) register(root *cobra.Command) {
	fl := root.PersistentFlags()
	fl.StringVar(&o.configPath, "config", "", "configuration file (default $MCPAUTH_HOME/config.json; env "+envConfig+")")
	fl.StringVar(&o.store, "store", "", "where credentials are kept: auto, keyring or file (default auto; env "+envStore+")")
	fl.StringVar(&o.storeDir, "store-dir", "", "directory of the file store and lock files (default $MCPAUTH_HOME, else the user config dir)")
	fl.BoolVarP(&o.verbose, "verbose", "v", false, "print an HTTP trace to stderr, with tokens and secrets redacted")
	fl.StringVar(&o.clientID, "client-id", "", "use this pre-registered client id (REG-5) instead of registering")
	fl.StringVar(&o.clientSecret, "client-secret", "", "secret of the pre-registered client (prefer env "+envClientSecret+": flags show in ps)")
	fl.StringVar(&o.issuer, "issuer", "", "authorization server the pre-registered client belongs to (default: the one the server names)")
	fl.StringVar(&o.authMethod, "auth-method", "", "token endpoint auth method of the pre-registered client: none, client_secret_basic or client_secret_post")
}

// fileConfig is the configuration file:
//
//	{
//	  "store": "auto",
//	  "store_dir": "/path",
//	  "client_id_metadata_url": "https://example.com/mcpauth/client.json",
//	  "scopes": ["mcp:read"],
//	  "clients": {
//	    "https://auth.example.com": {
//	      "client_id": "abc", "client_secret_env": "EXAMPLE_SECRET",
//	      "token_endpoint_auth_method": "client_secret_basic",
//	      "grant_types": ["authorization_code", "refresh_token"],
//	      "redirect_uri": "http://127.0.0.1:8765/callback"
//	    }
//	  }
//	}
//
// Clients are keyed by the authorization server's issuer, exactly as its
// metadata spells it (AS-2, REG-5).
type fileConfig struct {
	Store               string                  `json:"store,omitempty"`
	StoreDir            string                  `json:"store_dir,omitempty"`
	ClientIDMetadataURL string                  `json:"client_id_metadata_url,omitempty"`
	ClientName          string                  `json:"client_name,omitempty"`
	Scopes              []string                `json:"scopes,omitempty"`
	DisableRefresh      bool                    `json:"disable_refresh_tokens,omitempty"`
	Clients             map[string]clientConfig `json:"clients,omitempty"`
}

// clientConfig is a client registered by hand at one authorization server.
type clientConfig struct {
	ClientID        string   `json:"client_id"`
	ClientSecret    string   `json:"client_secret,omitempty"`
	ClientSecretEnv string   `json:"client_secret_env,omitempty"`
	AuthMethod      string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes      []string `json:"grant_types,omitempty"`
	RedirectURI     string   `json:"redirect_uri,omitempty"`
}

// settings is the configuration resolved from flags, environment and file.
type settings struct {
	file       fileConfig
	configPath string // the file read, "" if none
	backend    store.Backend
	storeDir   string
	// clients by issuer; flagClient is the --client-id one, whose issuer
	// may have to be discovered.
	clients    map[string]mcpauth.PreRegisteredClient
	flagClient *mcpauth.PreRegisteredClient
	flagIssuer string
}

func (f *Factory) getenv(k string) string { return f.IOStreams.getenv(k) }

// homeDir is $MCPAUTH_HOME, else the default mcpauth directory.
func (f *Factory) homeDir() (string, error) {
	if d := f.getenv(store.HomeEnv); d != "" {
		return filepath.Abs(d)
	}
	return store.DefaultDir()
}

// settings resolves the configuration: flags win over the environment,
// which wins over the configuration file.
func (f *Factory) settings() (*settings, error) {
	s := &settings{clients: map[string]mcpauth.PreRegisteredClient{}}
	path, explicit := f.opts.configPath, true
	if path == "" {
		path = f.getenv(envConfig)
	}
	if path == "" {
		explicit = false
		home, err := f.homeDir()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(home, configFileName)
	}
	if err := f.readConfig(path, explicit, s); err != nil {
		return nil, err
	}

	backend := firstNonEmpty(f.opts.store, f.getenv(envStore), s.file.Store, string(store.BackendAuto))
	switch store.Backend(backend) {
	case store.BackendAuto, store.BackendKeyring, store.BackendFile:
		s.backend = store.Backend(backend)
	default:
		return nil, &usageError{err: fmt.Errorf("unknown store %q: want auto, keyring or file", backend), cmd: "mcpauth"}
	}
	s.storeDir = firstNonEmpty(f.opts.storeDir, s.file.StoreDir)
	if s.storeDir == "" {
		home, err := f.homeDir()
		if err != nil {
			return nil, err
		}
		s.storeDir = home
	}

	for issuer, c := range s.file.Clients {
		if c.ClientID == "" {
			return nil, fmt.Errorf("%s: client for issuer %s has no client_id", s.configPath, issuer)
		}
		secret := c.ClientSecret
		if c.ClientSecretEnv != "" {
			secret = f.getenv(c.ClientSecretEnv)
			if secret == "" {
				return nil, fmt.Errorf("%s: client for issuer %s takes its secret from $%s, which is not set", s.configPath, issuer, c.ClientSecretEnv)
			}
		}
		s.clients[issuer] = mcpauth.PreRegisteredClient{
			ClientID: c.ClientID, Secret: secret, AuthMethod: c.AuthMethod,
			GrantTypes: c.GrantTypes, RedirectURI: c.RedirectURI,
		}
	}

	secret := firstNonEmpty(f.opts.clientSecret, f.getenv(envClientSecret))
	switch {
	case f.opts.clientID != "":
		s.flagClient = &mcpauth.PreRegisteredClient{ClientID: f.opts.clientID, Secret: secret, AuthMethod: f.opts.authMethod}
		s.flagIssuer = f.opts.issuer
	case f.opts.clientSecret != "" || f.opts.issuer != "" || f.opts.authMethod != "":
		return nil, &usageError{err: errors.New("--client-secret, --issuer and --auth-method need --client-id"), cmd: "mcpauth"}
	}
	if s.flagIssuer != "" {
		if _, err := urlcheck.HTTPSOrLoopback("--issuer", s.flagIssuer); err != nil {
			return nil, &usageError{err: err, cmd: "mcpauth"}
		}
	}
	return s, nil
}

// readConfig reads the configuration file at path into s. A missing file is
// fine unless it was asked for by name.
func (f *Factory) readConfig(path string, explicit bool, s *settings) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil
	case err != nil:
		return fmt.Errorf("reading the configuration file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.file); err != nil {
		return fmt.Errorf("configuration file %s: %w", path, err)
	}
	s.configPath = path
	if runtime.GOOS != "windows" {
		for _, c := range s.file.Clients {
			if c.ClientSecret == "" {
				continue
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				f.IOStreams.Errf("mcpauth: warning: %s holds a client secret and other users can read it; run `chmod 600 %s`, or use client_secret_env", path, path)
			}
			break
		}
	}
	return nil
}

// openStore opens the credential store the settings choose. With the auto
// backend on a machine without a keyring, the store prints one notice.
func (f *Factory) openStore(ctx context.Context, s *settings) (store.Store, error) {
	st, err := store.Open(ctx, store.Options{Backend: s.backend, Dir: s.storeDir, Notice: f.lockedErrOut()})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// baseTransport sends every request, traced with --verbose.
func (f *Factory) baseTransport() http.RoundTripper {
	base := f.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if f.opts.verbose {
		return &traceTransport{base: base, out: f.lockedErrOut()}
	}
	return base
}

// oauthClient sends discovery, registration and token requests.
func (f *Factory) oauthClient() *http.Client {
	return &http.Client{Transport: f.baseTransport(), Timeout: 30 * time.Second}
}

// logger is a debug logger on stderr with --verbose, else nil. The
// library's log lines that repeat an event are left out: the narrator
// prints those.
func (f *Factory) logger() *slog.Logger {
	if !f.opts.verbose {
		return nil
	}
	h := slog.NewTextHandler(f.lockedErrOut(), &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return slog.New(eventFilter{h})
}

// eventFilter drops the log records that carry an event's message.
type eventFilter struct{ slog.Handler }

func (h eventFilter) Handle(ctx context.Context, r slog.Record) error {
	event := false
	r.Attrs(func(a slog.Attr) bool {
		event = a.Key == "message"
		return !event
	})
	if event {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h eventFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return eventFilter{h.Handler.WithAttrs(attrs)}
}

func (h eventFilter) WithGroup(name string) slog.Handler {
	return eventFilter{h.Handler.WithGroup(name)}
}

// lockedErrOut is ErrOut, safe for concurrent writers.
func (f *Factory) lockedErrOut() *lockedWriter {
	return &lockedWriter{ios: f.IOStreams}
}

type lockedWriter struct{ ios *IOStreams }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.ios.errMu.Lock()
	defer w.ios.errMu.Unlock()
	return w.ios.ErrOut.Write(p)
}

// clientOptions say how a command's transport may reach the person.
type clientOptions struct {
	// interactive lets the transport run a browser login.
	interactive bool
	noBrowser   bool
	port        int
	timeout     time.Duration
	// narrate prints the authorization steps to stderr.
	narrate bool
	// background: no person at this terminal to press Ctrl-C (the proxy).
	background bool
}

// authClient is an authorized connection to one MCP server: an
// mcpauth.Transport, replaced by a fresh one when another process has
// logged in meanwhile (a Transport reads the store once), and the settings
// it was made from.
type authClient struct {
	f         *Factory
	serverURL string
	settings  *settings
	store     store.Store
	cfg       mcpauth.Config
	step      *loginStep // nil when not interactive

	mu sync.Mutex
	t  *mcpauth.Transport
}

// newAuthClient prepares the transport for serverURL.
func (f *Factory) newAuthClient(ctx context.Context, serverURL string, o clientOptions) (*authClient, error) {
	s, err := f.settings()
	if err != nil {
		return nil, err
	}
	st, err := f.openStore(ctx, s)
	if err != nil {
		return nil, err
	}
	c := &authClient{f: f, serverURL: serverURL, settings: s, store: st}
	c.cfg = mcpauth.Config{
		Base:                 f.baseTransport(),
		HTTPClient:           f.oauthClient(),
		Store:                st,
		Client:               registration.Metadata{ClientName: firstNonEmpty(s.file.ClientName, "mcpauth"), SoftwareID: "mcpauth", SoftwareVersion: Version},
		ClientIDMetadataURL:  s.file.ClientIDMetadataURL,
		PreRegistered:        s.clients,
		Scopes:               s.file.Scopes,
		DisableRefreshTokens: s.file.DisableRefresh,
		Logger:               f.logger(),
	}
	if o.narrate || f.opts.verbose {
		c.cfg.Observer = f.narrator()
	}
	if s.flagClient != nil {
		issuer := s.flagIssuer
		if issuer == "" {
			if issuer, err = f.discoverIssuer(ctx, serverURL); err != nil {
				return nil, err
			}
		}
		c.cfg.PreRegistered[issuer] = *s.flagClient
	}
	if o.interactive {
		c.step, err = f.newLoginStep(s.storeDir, serverURL, o)
		if err != nil {
			return nil, err
		}
		c.cfg.Step = c.step
	}
	if c.t, err = mcpauth.NewTransport(serverURL, c.cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// discoverIssuer finds the authorization server a --client-id without
// --issuer belongs to: the only one the server's resource metadata names,
// or the server's origin for a server without metadata (PRM-5).
func (f *Factory) discoverIssuer(ctx context.Context, serverURL string) (string, error) {
	fetcher := &discovery.Fetcher{Client: f.oauthClient()}
	prm, err := fetcher.ResourceMetadata(ctx, serverURL, "")
	switch {
	case errors.Is(err, discovery.ErrNoResourceMetadata):
		return discovery.Origin(serverURL)
	case err != nil:
		return "", fmt.Errorf("finding the authorization server for --client-id: %w", err)
	case len(prm.AuthorizationServers) != 1:
		return "", &usageError{err: fmt.Errorf("%s names %d authorization servers (%s); say which one --client-id belongs to with --issuer",
			serverURL, len(prm.AuthorizationServers), strings.Join(prm.AuthorizationServers, ", ")), cmd: "mcpauth"}
	}
	return prm.AuthorizationServers[0], nil
}

// transport returns the transport in use.
func (c *authClient) transport() *mcpauth.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// renew replaces old with a transport that reads the store afresh, unless
// another goroutine already did.
func (c *authClient) renew(old *mcpauth.Transport) *mcpauth.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t == old {
		if t, err := mcpauth.NewTransport(c.serverURL, c.cfg); err == nil {
			c.t = t
		}
	}
	return c.t
}

// RoundTrip sends req with the current transport. When the transport
// could not authorize because another process was logging in, or because
// it has no credentials and may not ask for any, it retries once with a
// transport that reads the store again, where the credentials another
// process saved now are.
func (c *authClient) RoundTrip(req *http.Request) (*http.Response, error) {
	req, err := replay.Request(req)
	if err != nil {
		return nil, err
	}
	t := c.transport()
	resp, err := t.RoundTrip(req)
	if err == nil || !(errors.Is(err, errLoginElsewhere) || mcpauth.IsLoginRequired(err)) || req.Context().Err() != nil {
		return resp, err
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return c.renew(t).RoundTrip(retry)
}

// httpClient is an http.Client over c, without a timeout: MCP responses
// may stream for as long as a session lasts.
func (c *authClient) httpClient() *http.Client { return &http.Client{Transport: c} }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// normalizeServerURL checks an MCP server URL given on the command line,
// adding https:// when no scheme is given and lower-casing the scheme and
// host, so that one server is stored under one key.
func normalizeServerURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty server URL")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := urlcheck.HTTPSOrLoopback("MCP server URL", raw)
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// serverArg normalizes the server URL argument, as a usage error when bad.
func serverArg(cmd *cobra.Command, raw string) (string, error) {
	u, err := normalizeServerURL(raw)
	if err != nil {
		return "", &usageError{err: err, cmd: cmd.CommandPath()}
	}
	return u, nil
}
