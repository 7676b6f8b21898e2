// Command mcp-go is an MCP client on mark3labs/mcp-go authorized by
// mcpauth: mcp-go's HTTP transports take mcpauth's http.Client, and every
// request then carries the token, with a login through the browser when
// the server asks for one, a refresh before the token expires, and a
// step-up when a tool needs more scope. Credentials are kept in the system
// keyring (or a private file) across runs.
//
// It connects to the MCP server at the URL it is given, lists the tools and
// calls one:
//
//	go run . [-transport streamable|sse] [-tool whoami] https://example.com/mcp
//
// This example is a module of its own, so that mcpauth itself does not
// depend on mcp-go.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/cli/browser"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp-go example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp-go", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("transport", "streamable", "mcp-go transport: streamable (Streamable HTTP) or sse (HTTP+SSE, 2024-11-05)")
	tool := fs.String("tool", "whoami", "the tool to call")
	toolArgs := fs.String("args", "{}", "the tool's arguments, a JSON object")
	storeDir := fs.String("store", "", "keep credentials in a file in this directory instead of the system keyring")
	headless := fs.Bool("headless", false, "approve by following the authorization server's redirects instead of opening a browser (for servers that approve without a page, such as the mcpauth demo)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: mcp-go [flags] <MCP server URL>")
	}
	serverURL := fs.Arg(0)
	var arguments map[string]any
	if err := json.Unmarshal([]byte(*toolArgs), &arguments); err != nil {
		return fmt.Errorf("-args: %w", err)
	}

	var st store.Store
	var err error
	if *storeDir != "" {
		st, err = store.NewFile(*storeDir)
	} else {
		st, err = store.Open(ctx, store.Options{Notice: stderr})
	}
	if err != nil {
		return err
	}
	open := func(_ context.Context, authURL string) error {
		fmt.Fprintf(stderr, "Log in at %s\n", authURL)
		browser.Stdout, browser.Stderr = stderr, stderr
		return browser.OpenURL(authURL)
	}
	if *headless {
		open = authorize.HeadlessOpener(nil)
	}
	cfg := mcpauth.Config{Store: st, Step: &authorize.Loopback{Open: open}}
	cfg.Client.ClientName = "mcpauth mcp-go example"
	tr, err := mcpauth.NewTransport(serverURL, cfg)
	if err != nil {
		return err
	}

	// The one line that matters: mcp-go's transport takes mcpauth's
	// http.Client.
	var t transport.Interface
	switch *kind {
	case "streamable":
		t, err = transport.NewStreamableHTTP(serverURL, transport.WithHTTPBasicClient(tr.Client()))
	case "sse":
		t, err = transport.NewSSE(serverURL, transport.WithHTTPClient(tr.Client()))
	default:
		return fmt.Errorf("-transport %q: want streamable or sse", *kind)
	}
	if err != nil {
		return err
	}

	c := client.NewClient(t)
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", serverURL, err)
	}
	defer c.Close()
	init := mcp.InitializeRequest{}
	// mcp-go 1.2.1 probes for the 2026-07-28 protocol first and, against a
	// go-sdk 1.8.0 server that declines it, keeps sending the new
	// protocol's _meta after falling back; pinning 2025-11-25 avoids that.
	// It has nothing to do with authorization.
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "mcpauth-mcp-go-example", Version: "1.0.0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		return fmt.Errorf("initializing: %w", err)
	}

	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fmt.Errorf("listing tools: %w", err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	fmt.Fprintf(stdout, "tools: %s\n", strings.Join(names, ", "))

	req := mcp.CallToolRequest{}
	req.Params.Name = *tool
	req.Params.Arguments = arguments
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", *tool, err)
	}
	for _, content := range res.Content {
		if text, ok := mcp.AsTextContent(content); ok {
			fmt.Fprintf(stdout, "%s: %s\n", *tool, text.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("%s returned an error", *tool)
	}
	return nil
}
