// Package cli implements the mcpauth command: log in to MCP servers, print
// tokens for scripts, inspect a server's authorization setup, call tools,
// and run a stdio proxy that lets any MCP client reach a protected server.
//
// Each command is built from a [Factory] that holds the injected streams
// and the global flags, so every command runs the same way in a terminal
// and in a test.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
)

// Version is the mcpauth version, set at build time with
// -ldflags "-X github.com/mcpauth/mcpauth/internal/cli.Version=v1.2.3".
var Version = "dev"

// Exit codes. ExitLoginRequired matches `gh`'s "authentication required".
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitCancelled     = 130
)

// Factory is what every command is built from: the streams, the global
// flags and configuration, and hooks that tests replace.
type Factory struct {
	IOStreams *IOStreams

	// OpenURL, if set, replaces the system browser: tests inject
	// authorize.HeadlessOpener or a driven Chromium here.
	OpenURL func(ctx context.Context, url string) error
	// Transport, if set, replaces http.DefaultTransport for every request.
	Transport http.RoundTripper
	// LoginPoll is how often a process waiting for another's login checks
	// whether it finished; default 250ms.
	LoginPoll time.Duration
	// MaxProcs, if set, limits the OS threads running Go code at once
	// (runtime.GOMAXPROCS); the proxy uses one unless GOMAXPROCS is set.
	// The command sets it; tests running commands in their own process
	// leave it nil.
	MaxProcs func(n int)

	opts globalOptions
}

func init() {
	if Version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		Version = bi.Main.Version
	}
}

// NewFactory returns a Factory over ios.
func NewFactory(ios *IOStreams) *Factory { return &Factory{IOStreams: ios} }

// NewRootCmd builds the mcpauth command tree. extra adds subcommands built
// from the same Factory.
func NewRootCmd(f *Factory, extra ...func(*Factory) *cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "mcpauth <command>",
		Short: "Log in to MCP servers and use them from the terminal",
		Long: `mcpauth authorizes MCP clients with OAuth, the way the MCP specification
asks: discovery, client registration, PKCE, resource indicators, refresh
tokens kept in the system keyring.

  mcpauth login https://mcp.example.com/mcp      log in with your browser
  mcpauth token https://mcp.example.com/mcp      print an access token for scripts
  mcpauth status                                  list the servers you are logged in to
  mcpauth inspect https://mcp.example.com/mcp    diagnose a server's authorization setup
  mcpauth proxy https://mcp.example.com/mcp      stdio MCP server for any MCP client`,
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err: err, cmd: c.CommandPath()}
	})
	f.opts.register(root)

	cmds := []*cobra.Command{
		newLoginCmd(f),
		newTokenCmd(f),
		newStatusCmd(f),
		newLogoutCmd(f),
		newInspectCmd(f),
		newToolsCmd(f),
		newCallCmd(f),
		newProxyCmd(f),
		newDemoCmd(f),
	}
	for _, e := range extra {
		cmds = append(cmds, e(f))
	}
	root.AddCommand(cmds...)
	return root
}

// Execute runs the command line args with f and returns the exit code.
// Errors are printed to f.IOStreams.ErrOut.
func Execute(ctx context.Context, f *Factory, args []string, extra ...func(*Factory) *cobra.Command) int {
	root := NewRootCmd(f, extra...)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = &usageError{err: err, cmd: "mcpauth"}
	}
	return f.report(ctx, err)
}

// report prints err for the person and picks the exit code.
func (f *Factory) report(ctx context.Context, err error) int {
	var (
		silent *silentError
		usage  *usageError
		login  *loginNeededError
	)
	switch {
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &usage):
		f.IOStreams.Errf("mcpauth: %v\nRun '%s --help' for usage.", usage.err, usage.cmd)
		return ExitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		f.IOStreams.Errf("mcpauth: cancelled")
		return ExitCancelled
	case errors.As(err, &login):
		f.IOStreams.Errf("mcpauth: %s", redactText(login.Error()))
		return ExitLoginRequired
	case mcpauth.IsLoginRequired(err):
		f.IOStreams.Errf("mcpauth: %s", redactText(err.Error()))
		return ExitLoginRequired
	}
	// Errors may quote URLs; none may show a code or token.
	f.IOStreams.Errf("mcpauth: %s", redactText(err.Error()))
	return ExitError
}

// usageError is a mistake on the command line.
type usageError struct {
	err error
	cmd string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// silentError ends a command with an exit code after it has already told
// the person why.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// loginNeededError says that a person must log in, and how.
type loginNeededError struct {
	serverURL string
	reason    string
}

func (e *loginNeededError) Error() string {
	msg := "not logged in to " + e.serverURL
	if e.reason != "" {
		msg += " (" + e.reason + ")"
	}
	return msg + "\nTo log in, run:  mcpauth login " + e.serverURL
}

// exactArgs is cobra.ExactArgs with a usage error and names for the
// arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return rangeArgs(len(names), len(names), names...)
}

// rangeArgs accepts between min and max arguments, named by names.
func rangeArgs(min, max int, names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return &usageError{err: fmt.Errorf("missing %s", names[len(args)]), cmd: c.CommandPath()}
		case len(args) > max:
			return &usageError{err: fmt.Errorf("too many arguments (%d); expected %d", len(args), max), cmd: c.CommandPath()}
		}
		return nil
	}
}
