// Command directclient is the baseline of the proxy benchmarks: a go-sdk
// client that talks Streamable HTTP to the server itself, through an
// mcpauth.Transport over the file store, and makes the same calls the
// benchmark makes through the proxy. When done it prints "done" and waits
// for its standard input to close, so the benchmark can read its peak RSS
// while it is alive and compare it with the proxy process's.
//
//	directclient SERVER_URL STORE_DIR CALLS
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "directclient:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: directclient SERVER_URL STORE_DIR CALLS")
	}
	url, dir := os.Args[1], os.Args[2]
	calls, err := strconv.Atoi(os.Args[3])
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.NewFile(dir)
	if err != nil {
		return err
	}
	t, err := mcpauth.NewTransport(url, mcpauth.Config{Store: st})
	if err != nil {
		return err
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "directclient", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: t.Client()}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		return err
	}
	defer cs.Close()
	for i := 0; i < calls; i++ {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("echo failed")
		}
	}
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
