// Every auth/* scenario: one MCP session through the mcpauth transport.

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
)

// cimdURL is the client ID metadata document URL the harness expects in
// auth/basic-cimd. It is never fetched by this client.
const cimdURL = "https://conformance-test.local/client-metadata.json"

// runAuthScenario authorizes through mcpauth, then lists tools and calls
// test-tool, as every auth scenario expects. The harness's mock
// authorization server approves at once with a 302 to the redirect URI, so
// the person's step is a plain HTTP GET that follows it to the loopback
// listener.
func runAuthScenario(ctx context.Context, serverURL, scenario string, confCtx map[string]any) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	trace := &requestLog{}
	cfg := mcpauth.Config{
		Step:                &authorize.Loopback{Open: authorize.HeadlessOpener(&http.Client{Transport: trace.wrap(nil)})},
		ClientIDMetadataURL: cimdURL,
		Logger:              logger,
		Observer:            func(e mcpauth.Event) { logf("%s: %s", e.Kind, e.Message) },
	}
	if id, _ := confCtx["client_id"].(string); id != "" {
		// A pre-registered client is configured per issuer (REG-5); the
		// harness names it in the context, else discovery finds it.
		issuer, _ := confCtx["issuer"].(string)
		if issuer == "" {
			var err error
			if issuer, err = issuerOf(ctx, serverURL); err != nil {
				return fmt.Errorf("finding the issuer for the pre-registered client: %w", err)
			}
		}
		secret, _ := confCtx["client_secret"].(string)
		cfg.PreRegistered = map[string]mcpauth.PreRegisteredClient{issuer: {ClientID: id, Secret: secret}}
	}
	// The ext-auth extensions (auth_extensions.go).
	if err := configureExtension(ctx, serverURL, scenario, confCtx, &cfg); err != nil {
		return fmt.Errorf("configuring %s: %w", scenario, err)
	}
	cfg.Base = trace.wrap(cfg.Base)
	tr, err := mcpauth.NewTransport(serverURL, cfg)
	if err != nil {
		return err
	}
	client := mcp.NewClient(clientInfo, &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: serverURL, HTTPClient: tr.Client()},
		&mcp.ClientSessionOptions{ProtocolVersion: os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION")})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test-tool", Arguments: map[string]any{}}); err != nil {
		return fmt.Errorf("tools/call test-tool: %w", err)
	}
	logf("%s: done", scenario)
	return nil
}

// issuerOf discovers the issuer of the server's authorization server.
func issuerOf(ctx context.Context, serverURL string) (string, error) {
	var f discovery.Fetcher
	prm, err := f.ResourceMetadata(ctx, serverURL, "")
	if err != nil {
		return discovery.Origin(serverURL)
	}
	if len(prm.AuthorizationServers) == 0 {
		return "", fmt.Errorf("resource metadata at %s lists no authorization server", prm.URL)
	}
	return prm.AuthorizationServers[0], nil
}

// requestLog writes one stderr line per HTTP request the client makes
// (method, URL without query, status), numbered, so a scenario's log shows
// how many requests the flow took. Queries are left out: they carry codes.
type requestLog struct{ n atomic.Int64 }

func (l *requestLog) wrap(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := l.n.Add(1)
		resp, err := base.RoundTrip(r)
		u := *r.URL
		u.RawQuery = ""
		if err != nil {
			logf("http #%d %s %s: %v", n, r.Method, u.String(), err)
			return nil, err
		}
		logf("http #%d %s %s -> %d", n, r.Method, u.String(), resp.StatusCode)
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
