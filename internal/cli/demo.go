package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth/internal/demo/walkthrough"
)

// newDemoCmd is `mcpauth demo`: the embedded OpenID provider and protected
// MCP server on loopback, and the whole client flow narrated.
func newDemoCmd(f *Factory) *cobra.Command {
	var (
		asJSON, serve, autoApprove, noRefresh, browser bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show the whole authorization flow against embedded demo servers",
		Long: `Start an OpenID provider and a protected MCP server on loopback and run the
mcpauth client against them, narrating each step: discovery, registration,
scope selection with offline_access (SEP-2207), authorization, a tool call, a
step-up to more scope, and a refresh after the access token expires.

With --serve, start the servers and keep them running, so other clients
(mcpauth login, the MCP Inspector) can be pointed at them.`,
		Example: `  mcpauth demo
  mcpauth demo --json
  mcpauth demo --serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ios := f.IOStreams
			if serve {
				srv, err := walkthrough.StartServers(ctx, autoApprove)
				if err != nil {
					return err
				}
				defer srv.Close()
				fmt.Fprintf(ios.Out, "MCP server:           %s\n", srv.MCP.URL())
				fmt.Fprintf(ios.Out, "authorization server: %s\n", srv.Auth.Issuer())
				fmt.Fprintf(ios.ErrOut, "\nTry: mcpauth login %s\nPress Ctrl-C to stop.\n", srv.MCP.URL())
				<-ctx.Done()
				return nil
			}
			opts := walkthrough.Options{DisableRefreshTokens: noRefresh}
			if !asJSON {
				opts.Out, opts.Color = ios.Out, ios.ColorEnabled()
			}
			if browser {
				opts.Open = f.opener("the demo MCP server", clientOptions{timeout: 5 * time.Minute})
			}
			rep, err := walkthrough.Run(ctx, opts)
			if asJSON {
				enc := json.NewEncoder(ios.Out)
				enc.SetIndent("", "  ")
				if encErr := enc.Encode(rep); encErr != nil {
					return encErr
				}
			} else if err == nil {
				fmt.Fprintf(ios.Out, "\nflow time: %d ms\n", rep.DurationMS)
			}
			if err != nil {
				if asJSON {
					return &silentError{code: 1}
				}
				return fmt.Errorf("demo failed: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of the narration")
	cmd.Flags().BoolVar(&serve, "serve", false, "only start the servers, print their URLs and wait")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "with --serve: approve authorization requests without showing the consent page")
	cmd.Flags().BoolVar(&noRefresh, "no-refresh-tokens", false, "run as a client that cannot keep refresh tokens, to see the difference SEP-2207 makes")
	cmd.Flags().BoolVar(&browser, "browser", false, "show the consent page in your browser instead of approving headlessly")
	return cmd
}
