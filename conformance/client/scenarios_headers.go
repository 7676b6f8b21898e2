// The SEP-2243 HTTP header scenarios (2026-07-28 wire).

package main

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// runStandardHeaders uses every tool, resource and prompt the server offers,
// so that each POST carries the Mcp-Method header and, for tools/call,
// resources/read and prompts/get, the Mcp-Name header (set by the SDK's
// transport).
func runStandardHeaders(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := callEveryTool(ctx, s); err != nil {
		return err
	}
	for res, err := range s.Resources(ctx, nil) {
		if err != nil {
			return fmt.Errorf("resources/list: %w", err)
		}
		got, err := s.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.URI})
		if err != nil {
			return fmt.Errorf("resources/read %s: %w", res.URI, err)
		}
		logf("read %s: %d content block(s)", res.URI, len(got.Contents))
	}
	for prompt, err := range s.Prompts(ctx, nil) {
		if err != nil {
			return fmt.Errorf("prompts/list: %w", err)
		}
		args := map[string]string{}
		for _, a := range prompt.Arguments {
			if a.Required {
				args[a.Name] = "example"
			}
		}
		got, err := s.GetPrompt(ctx, &mcp.GetPromptParams{Name: prompt.Name, Arguments: args})
		if err != nil {
			return fmt.Errorf("prompts/get %s: %w", prompt.Name, err)
		}
		logf("prompt %s: %d message(s)", prompt.Name, len(got.Messages))
	}
	return nil
}

// runCustomHeaders lists the tools (their input schemas carry x-mcp-header
// annotations) and makes the tool calls listed in the context's toolCalls,
// which the harness chose to exercise header encoding: the transport mirrors
// each annotated argument into an Mcp-Param-* header, Base64-encodes unsafe
// values, and omits null ones.
func runCustomHeaders(ctx context.Context, serverURL string, env *scenarioEnv) error {
	calls, err := contextToolCalls(env.Context)
	if err != nil {
		return err
	}
	if len(calls) == 0 {
		return fmt.Errorf("MCP_CONFORMANCE_CONTEXT has no toolCalls")
	}
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if findTool(tools, c.Name) == nil {
			return fmt.Errorf("context asks to call %q, which the server does not list", c.Name)
		}
		text, err := callTool(ctx, s, c.Name, c.Arguments)
		if err != nil {
			return err
		}
		logf("%s answered: %s", c.Name, text)
	}
	return nil
}

// runInvalidToolHeaders lists the tools, several of which carry malformed
// x-mcp-header annotations. The SDK drops those from the listing; the client
// calls every tool that remains, so a tool it wrongly kept would be called.
func runInvalidToolHeaders(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	return callEveryTool(ctx, s)
}

// callEveryTool lists the server's tools and calls each with sample
// arguments built from its input schema.
func callEveryTool(ctx context.Context, s *session) error {
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(tools))
	for _, t := range tools {
		names = append(names, t.Name)
	}
	logf("usable tools: %v", names)
	for _, tool := range tools {
		args, err := sampleArguments(tool)
		if err != nil {
			return fmt.Errorf("tool %s: unreadable input schema: %v", tool.Name, err)
		}
		text, err := callTool(ctx, s, tool.Name, args)
		if err != nil {
			return err
		}
		logf("%s answered: %s", tool.Name, text)
	}
	return nil
}

// toolCall is one call requested through MCP_CONFORMANCE_CONTEXT.
type toolCall struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

// contextToolCalls reads the context's toolCalls list:
// {"toolCalls": [{"name": "...", "arguments": {...}}, ...]}.
func contextToolCalls(confCtx map[string]any) ([]toolCall, error) {
	raw, ok := confCtx["toolCalls"]
	if !ok {
		return nil, nil
	}
	var calls []toolCall
	if err := remarshal(raw, &calls); err != nil {
		return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT toolCalls: %v", err)
	}
	for i := range calls {
		if calls[i].Name == "" {
			return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT toolCalls[%d] has no name", i)
		}
		if calls[i].Arguments == nil {
			calls[i].Arguments = map[string]any{}
		}
	}
	return calls, nil
}
