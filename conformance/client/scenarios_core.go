// Core client scenarios: the lifecycle, tool calls, elicitation defaults,
// SSE resumption and the 2026 per-request metadata.

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// runInitialize opens a session (initialize handshake, or server/discover on
// the 2026 wire), lists the tools, and closes the session.
func runInitialize(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	logf("server offers %d tool(s)", len(tools))
	return nil
}

// runToolsCall asks the server's add_numbers tool for 5 + 3.
func runToolsCall(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	if findTool(tools, "add_numbers") == nil {
		return fmt.Errorf("server does not offer the add_numbers tool")
	}
	text, err := callTool(ctx, s, "add_numbers", map[string]any{"a": 5, "b": 3})
	if err != nil {
		return err
	}
	logf("add_numbers answered: %s", text)
	return nil
}

// runElicitationDefaults calls a tool that elicits a form whose fields all
// have defaults. The simulated user accepts without typing anything, so the
// client must fill in the schema defaults (SEP-1034) before answering; the
// SDK applies them to an accepted, partially filled form.
func runElicitationDefaults(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, &mcp.ClientOptions{ElicitationHandler: acceptingUser})
	if err != nil {
		return err
	}
	defer s.Close()
	const tool = "test_client_elicitation_defaults"
	text, err := callOfferedTool(ctx, s, tool)
	if err != nil {
		return err
	}
	logf("%s answered: %s", tool, text)
	return nil
}

// runSSERetry calls a tool whose SSE response stream the server closes before
// the result is sent. The client must wait the advertised retry interval,
// reconnect with Last-Event-ID and receive the result on the resumed stream
// (SEP-1699); the SDK's streamable transport does this.
func runSSERetry(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	const tool = "test_reconnection"
	text, err := callOfferedTool(ctx, s, tool)
	if err != nil {
		return err
	}
	logf("%s answered after the stream was resumed: %s", tool, text)
	return nil
}

// runRequestMetadata exercises the 2026 stateless wire (SEP-2575): the server
// rejects the first request with -32022 and the versions it supports, the
// client retries with a supported one, and every request carries the
// MCP-Protocol-Version header and the _meta triple (protocol version, client
// info, client capabilities).
// The SDK does all of that; the client's part is the initialize scenario's.
func runRequestMetadata(ctx context.Context, serverURL string, env *scenarioEnv) error {
	return runInitialize(ctx, serverURL, env)
}

// callOfferedTool lists the tools, checks that tool is among them, and
// calls it with no arguments.
func callOfferedTool(ctx context.Context, s *session, tool string) (string, error) {
	tools, err := listTools(ctx, s)
	if err != nil {
		return "", err
	}
	if findTool(tools, tool) == nil {
		return "", fmt.Errorf("server does not offer the %s tool", tool)
	}
	return callTool(ctx, s, tool, map[string]any{})
}

// listTools returns all tools of the server, following pagination.
func listTools(ctx context.Context, s *session) ([]*mcp.Tool, error) {
	var tools []*mcp.Tool
	for tool, err := range s.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		tools = append(tools, tool)
	}
	return tools, nil
}

// findTool returns the tool called name, or nil.
func findTool(tools []*mcp.Tool, name string) *mcp.Tool {
	for _, t := range tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// callTool calls a tool and returns the text of its result. A result flagged
// isError is an error.
func callTool(ctx context.Context, s *session, name string, args map[string]any) (string, error) {
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", fmt.Errorf("tools/call %s: %w", name, err)
	}
	text := resultText(res)
	if res.IsError {
		return "", fmt.Errorf("tools/call %s: tool reported an error: %s", name, text)
	}
	return text, nil
}

// resultText joins the text content blocks of a tool result.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, " ")
}
