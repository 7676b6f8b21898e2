package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
)

func newLogoutCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout <server-url>",
		Short: "Revoke and forget the credentials for a server",
		Long: `Revoke the tokens held for the MCP server at its authorization server
(RFC 7009; the refresh token first, which ends the grant) when the server
offers a revocation endpoint, then delete them, and the client registration,
from the credential store. It says whether the revocation happened: tokens
that could not be revoked stay valid at the server until they expire.`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runLogout(cmd.Context(), serverURL)
		},
	}
}

func (f *Factory) runLogout(ctx context.Context, serverURL string) error {
	c, err := f.newAuthClient(ctx, serverURL, clientOptions{})
	if err != nil {
		return err
	}
	results, err := c.transport().Logout(ctx)
	ios, cs := f.IOStreams, f.IOStreams.errColors()
	for _, r := range results {
		switch {
		case r.Revoked:
			ios.Errf("%s Revoked the tokens at %s", cs.Green("✓"), r.Issuer)
		case errors.Is(r.RevokeErr, mcpauth.ErrNoRevocationEndpoint):
			ios.Errf("%s Not revoked: %s has no revocation endpoint; the tokens stay valid there until they expire", cs.Yellow("!"), r.Issuer)
		case r.RevokeErr != nil:
			ios.Errf("%s Not revoked at %s: %v; the tokens may stay valid there until they expire", cs.Yellow("!"), r.Issuer, r.RevokeErr)
		default:
			ios.Errf("%s No tokens were held for %s; nothing to revoke", cs.Gray("•"), r.Issuer)
		}
	}
	if err != nil {
		return err
	}
	if len(results) == 0 {
		ios.Errf("Not logged in to %s; nothing to do.", serverURL)
		return &silentError{code: ExitError}
	}
	ios.Errf("%s Logged out of %s: credentials deleted from the store", cs.Green("✓"), serverURL)
	return nil
}
