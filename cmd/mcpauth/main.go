// Command mcpauth logs in to MCP servers with OAuth, prints tokens for
// scripts, diagnoses servers' authorization setups, and serves remote MCP
// servers over stdio with authorization. Run `mcpauth --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/mcpauth/mcpauth/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	f := cli.NewFactory(cli.System())
	f.MaxProcs = func(n int) { runtime.GOMAXPROCS(n) }
	code := cli.Execute(ctx, f, os.Args[1:])
	stop()
	os.Exit(code)
}
