// Package walkthrough runs the `mcpauth demo` story: it starts the demo
// OpenID provider and the protected MCP server on loopback, then drives the
// mcpauth client through the whole flow — discovery, registration, scope
// selection with SEP-2207's offline_access, authorization, a tool call, a
// step-up, and a refresh — narrating each step for a person.
package walkthrough

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
)

// Options configure a run.
type Options struct {
	// Out receives the narration; nil discards it (for --json).
	Out io.Writer
	// Color enables ANSI colour in the narration.
	Color bool
	// DisableRefreshTokens runs the client as one that cannot keep refresh
	// tokens, to show the difference SEP-2207 makes.
	DisableRefreshTokens bool
	// Open, if set, takes the person to the authorization URL (a browser);
	// nil approves headlessly.
	Open func(ctx context.Context, authURL string) error
}

// Report is the machine-readable outcome, printed by --json.
type Report struct {
	OK                   bool     `json:"ok"`
	Error                string   `json:"error,omitempty"`
	ServerURL            string   `json:"server_url"`
	Issuer               string   `json:"issuer"`
	Registration         string   `json:"registration"`
	ScopeRequested       string   `json:"scope_requested"`
	ScopeRule            string   `json:"scope_rule"`
	OfflineAccessAdded   bool     `json:"offline_access_added"`
	PromptConsent        bool     `json:"prompt_consent"`
	RefreshTokenReceived bool     `json:"refresh_token_received"`
	StepUp               bool     `json:"step_up"`
	StepUpScope          string   `json:"step_up_scope,omitempty"`
	Refreshed            bool     `json:"refreshed"`
	Tools                []string `json:"tools"`
	Whoami               string   `json:"whoami,omitempty"`
	// HTTP requests counted at the demo servers.
	AuthorizationRequests int            `json:"authorization_requests"`
	TokenRequests         map[string]int `json:"token_requests"`
	Registrations         int            `json:"registrations"`
	DurationMS            int64          `json:"duration_ms"`
}

// Servers are the two demo servers, running.
type Servers struct {
	Auth *authserver.Server
	MCP  *mcpserver.Server
}

// Close stops both servers.
func (s *Servers) Close() {
	s.MCP.Close()
	s.Auth.Close()
}

// StartServers starts the authorization server and the MCP server on
// loopback ephemeral ports. autoApprove skips the consent page.
func StartServers(ctx context.Context, autoApprove bool) (*Servers, error) {
	as, err := authserver.Start(ctx, authserver.Config{AutoApprove: autoApprove})
	if err != nil {
		return nil, fmt.Errorf("starting the demo authorization server: %w", err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		as.Close()
		return nil, fmt.Errorf("starting the demo MCP server: %w", err)
	}
	as.AddResource(ms.URL())
	return &Servers{Auth: as, MCP: ms}, nil
}

// clock is the client's clock, which the demo moves forward to make the
// access token expire without waiting.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Run starts the servers, runs the story and stops them.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	srv, err := StartServers(ctx, opts.Open == nil)
	if err != nil {
		return &Report{Error: err.Error()}, err
	}
	defer srv.Close()
	rep, err := run(ctx, srv, opts)
	rep.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	rep.OK = true
	return rep, nil
}

func run(ctx context.Context, srv *Servers, opts Options) (*Report, error) {
	n := &narrator{out: opts.Out, color: opts.Color}
	rep := &Report{ServerURL: srv.MCP.URL(), Issuer: srv.Auth.Issuer()}
	n.title("mcpauth demo")
	n.info("authorization server (OpenID provider, zitadel/oidc): %s", srv.Auth.Issuer())
	n.info("protected MCP server (go-sdk):                    %s", srv.MCP.URL())

	clk := &clock{}
	open := opts.Open
	if open == nil {
		open = authorize.HeadlessOpener(&http.Client{Timeout: 30 * time.Second})
	}
	tr, err := mcpauth.NewTransport(srv.MCP.URL(), mcpauth.Config{
		Store:                store.NewMemory(),
		Step:                 &authorize.Loopback{Open: open},
		Client:               clientMetadata(),
		DisableRefreshTokens: opts.DisableRefreshTokens,
		Now:                  clk.Now,
		Observer:             func(e mcpauth.Event) { n.event(e, rep) },
	})
	if err != nil {
		return rep, err
	}

	n.step("Connecting; the server answers 401 and the client authorizes")
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpauth-demo", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.MCP.URL(), HTTPClient: tr.Client()}, nil)
	if err != nil {
		return rep, fmt.Errorf("connecting to the MCP server: %w", err)
	}
	defer cs.Close()

	n.step("Listing tools")
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("tools/list: %w", err)
	}
	for _, t := range tools.Tools {
		rep.Tools = append(rep.Tools, t.Name)
	}
	n.ok("tools: %v", rep.Tools)

	n.step("Calling whoami (needs mcp:read)")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil {
		return rep, fmt.Errorf("tools/call whoami: %w", err)
	}
	rep.Whoami = text(res)
	n.ok("whoami: %s", rep.Whoami)

	n.step("Calling write-note (needs mcp:write, which was not granted)")
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "write-note", Arguments: map[string]any{"text": "hello from mcpauth"}}); err != nil {
		return rep, fmt.Errorf("tools/call write-note: %w", err)
	}
	n.ok("write-note succeeded after the step-up")

	n.step("Forcing the access token to expire (the client's clock jumps ahead)")
	tok, err := tr.Token(ctx)
	if err != nil {
		return rep, err
	}
	clk.advance(time.Until(tok.Expiry) + time.Second)
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}}); err != nil {
		return rep, fmt.Errorf("tools/call after expiry: %w", err)
	}
	if !rep.Refreshed {
		n.warn("no refresh happened: without a refresh token the client had to authorize again")
	}

	st := srv.Auth.Stats()
	rep.AuthorizationRequests, rep.TokenRequests, rep.Registrations = st.AuthorizationRequests, st.TokenRequests, st.Registrations
	n.step("Done")
	n.info("at the authorization server: %d authorization requests, %d registration, %d code exchanges, %d refreshes",
		rep.AuthorizationRequests, rep.Registrations, rep.TokenRequests["authorization_code"], rep.TokenRequests["refresh_token"])
	return rep, nil
}

func clientMetadata() registration.Metadata {
	return registration.Metadata{ClientName: "mcpauth demo", ClientURI: "https://github.com/mcpauth/mcpauth"}
}

func text(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}
