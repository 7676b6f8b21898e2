// Opening an MCP session with the Go SDK, on the protocol revision the
// harness asked for.

package main

import (
	"context"
	"fmt"
	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// clientInfo is the implementation name and version the client announces.
var clientInfo = &mcp.Implementation{Name: "mcpauth-conformance-client", Version: "0.1.0"}

// session is an open MCP session together with the client that opened it
// (extensions register their methods on the client).
type session struct {
	*mcp.ClientSession
	client *mcp.Client
}

// connect opens a streamable-HTTP MCP session to serverURL.
//
// env.ProtocolVersion selects the wire: a dated revision up to 2025-11-25
// uses the initialize handshake, 2026-07-28 the stateless wire (server/discover
// and per-request _meta), with the SDK falling back to initialize when the
// server does not speak it. opts may be nil.
func connect(ctx context.Context, serverURL string, env *scenarioEnv, opts *mcp.ClientOptions) (*session, error) {
	if opts == nil {
		opts = &mcp.ClientOptions{}
	}
	if opts.Capabilities == nil {
		// This client exposes no roots; the SDK would otherwise announce
		// roots.listChanged by default. Handlers set in opts still add their
		// capabilities (elicitation, sampling).
		opts.Capabilities = &mcp.ClientCapabilities{}
	}
	client := mcp.NewClient(clientInfo, opts)
	transport := &mcp.StreamableClientTransport{Endpoint: serverURL}
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: env.ProtocolVersion})
	if err != nil {
		return nil, fmt.Errorf("connect to %s (protocol %s): %w", serverURL, versionLabel(env.ProtocolVersion), err)
	}
	logf("connected to %s, negotiated protocol %s", serverURL, cs.InitializeResult().ProtocolVersion)
	return &session{ClientSession: cs, client: client}, nil
}

// versionLabel names a protocol version for messages.
func versionLabel(v string) string {
	if v == "" {
		return "latest"
	}
	return v
}

// logf writes a progress line to stderr, which the harness keeps per scenario.
func logf(format string, args ...any) {
	log.Printf(format, args...)
}
