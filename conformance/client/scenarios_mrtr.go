// The SEP-2322 multi-round-trip request scenario.

package main

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// runRequestState calls every tool the server lists. Some answer with an
// input_required result that embeds an elicitation and, for some, an opaque
// requestState; the client answers the elicitation (acceptingUser) and
// retries the call with a new JSON-RPC id, the input responses, and the
// requestState echoed byte for byte (omitted when the server sent none),
// never leaking them into other calls. A result without resultType is
// complete. The SDK's multi-round-trip middleware performs the retries.
func runRequestState(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, &mcp.ClientOptions{
		ElicitationHandler: acceptingUser,
		Capabilities:       &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{}},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	for _, tool := range tools {
		args, err := sampleArguments(tool)
		if err != nil {
			return err
		}
		text, err := callTool(ctx, s, tool.Name, args)
		if err != nil {
			return err
		}
		logf("%s answered: %s", tool.Name, text)
	}
	return nil
}
