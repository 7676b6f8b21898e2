package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
)

func newTokenCmd(f *Factory) *cobra.Command {
	var (
		o     loginOptions
		login bool
	)
	cmd := &cobra.Command{
		Use:   "token <server-url>",
		Short: "Print a valid access token for a server",
		Long: `Print a valid access token for the MCP server and a newline, nothing else,
refreshing it first when it is about to expire. For scripts:

  curl -H "Authorization: Bearer $(mcpauth token https://mcp.example.com/mcp)" ...

It never starts a login unless --login is given: when one is needed it exits
with status 4 and says which command to run.`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runToken(cmd.Context(), serverURL, login, o)
		},
	}
	cmd.Flags().BoolVar(&login, "login", false, "log in with the browser when needed, instead of failing")
	o.register(cmd, defaultLoginTimeout)
	return cmd
}

func (f *Factory) runToken(ctx context.Context, serverURL string, login bool, o loginOptions) error {
	c, err := f.newAuthClient(ctx, serverURL, clientOptions{interactive: login, noBrowser: o.noBrowser, port: o.port, timeout: o.timeout, narrate: login})
	if err != nil {
		return err
	}
	tok, err := c.transport().Token(ctx)
	if err != nil && mcpauth.IsLoginRequired(err) && login {
		if tok, _, err = c.login(ctx); err != nil {
			return loginFailure(err, o.timeout)
		}
	}
	if err != nil {
		var lr *mcpauth.LoginRequiredError
		if errors.As(err, &lr) {
			return &loginNeededError{serverURL: serverURL, reason: lr.Reason}
		}
		return err
	}
	_, err = fmt.Fprintln(f.IOStreams.Out, tok.AccessToken)
	return err
}
