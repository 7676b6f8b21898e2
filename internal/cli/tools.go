package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
)

// sessionOptions are the flags of the commands that open an MCP session.
type sessionOptions struct {
	login   loginOptions
	noLogin bool
	asJSON  bool
}

func (o *sessionOptions) register(cmd *cobra.Command) {
	o.login.register(cmd, defaultLoginTimeout)
	cmd.Flags().BoolVar(&o.noLogin, "no-login", false, "never start a browser login; fail when one is needed")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
}

func newToolsCmd(f *Factory) *cobra.Command {
	var o sessionOptions
	cmd := &cobra.Command{
		Use:   "tools <server-url>",
		Short: "List a server's tools",
		Long: `List the tools of an MCP server, logging in first when needed (unless
--no-login).`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runTools(cmd.Context(), serverURL, o)
		},
	}
	o.register(cmd)
	return cmd
}

func newCallCmd(f *Factory) *cobra.Command {
	var o sessionOptions
	cmd := &cobra.Command{
		Use:   "call <server-url> <tool> [arguments-json]",
		Short: "Call one of a server's tools",
		Long: `Call a tool of an MCP server with arguments given as a JSON object ("-" reads
them from stdin), and print its result: the text content, or with --json the
whole result. Progress notifications go to stderr. It exits with status 1
when the tool reports an error.`,
		Example: `  mcpauth call https://mcp.example.com/mcp whoami
  mcpauth call https://mcp.example.com/mcp echo '{"text":"hello"}'
  echo '{"text":"hello"}' | mcpauth call https://mcp.example.com/mcp echo -`,
		Args: rangeArgs(2, 3, "server URL", "tool name", "arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			var raw string
			if len(args) == 3 {
				raw = args[2]
			}
			return f.runCall(cmd.Context(), serverURL, args[1], raw, o)
		},
	}
	o.register(cmd)
	return cmd
}

// connect opens an MCP session to serverURL over an authorized transport.
func (f *Factory) connect(ctx context.Context, serverURL string, o sessionOptions, copts *mcp.ClientOptions) (*mcp.ClientSession, error) {
	co := o.login.clientOptions(true)
	co.interactive = !o.noLogin
	c, err := f.newAuthClient(ctx, serverURL, co)
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpauth", Version: Version}, copts)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             serverURL,
		HTTPClient:           c.httpClient(),
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err != nil {
		return nil, sessionError(serverURL, err, o.login.timeout)
	}
	return cs, nil
}

// sessionError explains a failure to talk to the server.
func sessionError(serverURL string, err error, timeout time.Duration) error {
	if mcpauth.IsLoginRequired(err) {
		return &loginNeededError{serverURL: serverURL, reason: "a login is needed, and --no-login was given"}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return loginFailure(err, timeout)
	}
	return err
}

func (f *Factory) runTools(ctx context.Context, serverURL string, o sessionOptions) error {
	cs, err := f.connect(ctx, serverURL, o, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	tools := []*mcp.Tool{}
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return sessionError(serverURL, err, o.login.timeout)
		}
		tools = append(tools, t)
	}
	out := f.IOStreams.Out
	if o.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(tools)
	}
	if len(tools) == 0 {
		f.IOStreams.Errf("%s offers no tools.", serverURL)
		return nil
	}
	p := f.IOStreams.Colors()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, t := range tools {
		desc, _, _ := strings.Cut(strings.TrimSpace(t.Description), "\n")
		fmt.Fprintf(tw, "%s\t%s\n", p.Bold(t.Name), desc)
	}
	return tw.Flush()
}

func (f *Factory) runCall(ctx context.Context, serverURL, tool, raw string, o sessionOptions) error {
	args, err := f.toolArguments(raw)
	if err != nil {
		return err
	}
	ios := f.IOStreams
	cs, err := f.connect(ctx, serverURL, o, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			p := r.Params
			msg := fmt.Sprintf("progress: %g", p.Progress)
			if p.Total > 0 {
				msg += fmt.Sprintf("/%g", p.Total)
			}
			if p.Message != "" {
				msg += " " + p.Message
			}
			ios.Errf("%s", msg)
		},
	})
	if err != nil {
		return err
	}
	defer cs.Close()
	params := &mcp.CallToolParams{Name: tool, Arguments: args}
	params.SetProgressToken("mcpauth-call")
	res, err := cs.CallTool(ctx, params)
	if err != nil {
		return sessionError(serverURL, err, o.login.timeout)
	}
	out := ios.Out
	if o.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printed := false
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				fmt.Fprintln(out, t.Text)
			} else {
				data, _ := json.Marshal(c)
				fmt.Fprintln(out, string(data))
			}
			printed = true
		}
		if !printed && res.StructuredContent != nil {
			data, _ := json.MarshalIndent(res.StructuredContent, "", "  ")
			fmt.Fprintln(out, string(data))
		}
	}
	if res.IsError {
		ios.Errf("mcpauth: the tool %s reported an error", tool)
		return &silentError{code: ExitError}
	}
	return nil
}

// toolArguments parses the arguments of a call: a JSON object, "-" for
// stdin, or nothing.
func (f *Factory) toolArguments(raw string) (map[string]any, error) {
	if raw == "-" {
		data, err := io.ReadAll(f.IOStreams.In)
		if err != nil {
			return nil, err
		}
		raw = string(data)
	}
	if strings.TrimSpace(raw) == "" {
		return map[string]any{}, nil
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(raw), &args); err != nil || args == nil {
		return nil, &usageError{err: fmt.Errorf("the tool arguments must be a JSON object, like '{\"text\":\"hi\"}'"), cmd: "mcpauth call"}
	}
	return args, nil
}
