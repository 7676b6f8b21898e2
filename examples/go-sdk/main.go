// Command go-sdk is an MCP client on the official go-sdk
// (github.com/modelcontextprotocol/go-sdk) authorized by mcpauth. It
// connects to the MCP server at the URL it is given, lists the tools and
// calls one, logging in through the browser when the server asks for it.
// Credentials are kept in the system keyring (or a private file), so the
// next run logs in only if the stored grant no longer works.
//
// Three ways to plug mcpauth into go-sdk, by -transport:
//
//	streamable  mcp.StreamableClientTransport with mcpauth's http.Client (default)
//	handler     mcp.StreamableClientTransport with mcpauth's auth.OAuthHandler
//	sse         mcp.SSEClientTransport (the 2024-11-05 transport) with mcpauth's http.Client
//
// Usage:
//
//	go run ./examples/go-sdk [-transport streamable|handler|sse] [-tool whoami] https://example.com/mcp
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/cli/browser"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-sdk example:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	serverURL string
	transport string
	tool      string
	args      map[string]any
	storeDir  string
	headless  bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("go-sdk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var toolArgs string
	fs.StringVar(&o.transport, "transport", "streamable", "how mcpauth plugs into go-sdk: streamable, handler or sse")
	fs.StringVar(&o.tool, "tool", "whoami", "the tool to call")
	fs.StringVar(&toolArgs, "args", "{}", "the tool's arguments, a JSON object")
	fs.StringVar(&o.storeDir, "store", "", "keep credentials in a file in this directory instead of the system keyring")
	fs.BoolVar(&o.headless, "headless", false, "approve by following the authorization server's redirects instead of opening a browser (for servers that approve without a page, such as the mcpauth demo)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, errors.New("usage: go-sdk [flags] <MCP server URL>")
	}
	o.serverURL = fs.Arg(0)
	if err := json.Unmarshal([]byte(toolArgs), &o.args); err != nil {
		return nil, fmt.Errorf("-args: %w", err)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}

	// Credentials survive restarts: the system keyring, or a file only
	// this user can read.
	var st store.Store
	if o.storeDir != "" {
		st, err = store.NewFile(o.storeDir)
	} else {
		st, err = store.Open(ctx, store.Options{Notice: stderr})
	}
	if err != nil {
		return err
	}

	// The person's part: a loopback redirect, reached through the browser.
	open := func(_ context.Context, authURL string) error {
		fmt.Fprintf(stderr, "Log in at %s\n", authURL)
		browser.Stdout, browser.Stderr = stderr, stderr
		return browser.OpenURL(authURL)
	}
	if o.headless {
		open = authorize.HeadlessOpener(nil)
	}
	cfg := mcpauth.Config{
		Store: st,
		Step:  &authorize.Loopback{Open: open},
	}
	cfg.Client.ClientName = "mcpauth go-sdk example"

	tr, err := mcpauth.NewTransport(o.serverURL, cfg)
	if err != nil {
		return err
	}
	var transport mcp.Transport
	switch o.transport {
	case "streamable":
		// The RoundTripper: every request of go-sdk's client goes
		// through mcpauth.
		transport = &mcp.StreamableClientTransport{Endpoint: o.serverURL, HTTPClient: tr.Client()}
	case "handler":
		// go-sdk's own hook, in place of auth.AuthorizationCodeHandler.
		transport = &mcp.StreamableClientTransport{Endpoint: o.serverURL, HTTPClient: http.DefaultClient, OAuthHandler: tr.OAuthHandler()}
	case "sse":
		transport = &mcp.SSEClientTransport{Endpoint: o.serverURL, HTTPClient: tr.Client()}
	default:
		return fmt.Errorf("-transport %q: want streamable, handler or sse", o.transport)
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "mcpauth-go-sdk-example", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", o.serverURL, err)
	}
	defer cs.Close()

	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		names = append(names, tool.Name)
	}
	fmt.Fprintf(stdout, "tools: %s\n", strings.Join(names, ", "))

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: o.tool, Arguments: o.args})
	if err != nil {
		return fmt.Errorf("calling %s: %w", o.tool, err)
	}
	for _, c := range res.Content {
		if text, ok := c.(*mcp.TextContent); ok {
			fmt.Fprintf(stdout, "%s: %s\n", o.tool, text.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("%s returned an error", o.tool)
	}
	return nil
}
