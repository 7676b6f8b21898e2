package mcpauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/store"
)

// A desktop or command-line client: the person authorizes in a browser,
// the redirect comes back to a loopback listener, and every request to the
// MCP server then carries the token.
func ExampleNewTransport() {
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Step: &authorize.Loopback{Open: func(ctx context.Context, authURL string) error {
			// Open the system browser here; printing works too.
			fmt.Fprintln(os.Stderr, "To authorize, open:", authURL)
			return nil
		}},
		Store: store.NewMemory(),
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := tr.Client().Post("https://mcp.example.com/mcp", "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	var mismatch *mcpauth.ResourceMismatchError
	switch {
	case errors.As(err, &mismatch):
		log.Fatalf("the server's metadata names another resource (%s): refusing to authorize", mismatch.Resource)
	case err != nil:
		log.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
}

// A background job never starts a login: without a Step, it uses and
// refreshes stored credentials, and reports when a person must log in.
func ExampleTransport_Token() {
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{Store: store.NewMemory()})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tr.Token(context.Background())
	if mcpauth.IsLoginRequired(err) {
		fmt.Println("login required")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://mcp.example.com/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	// Output: login required
}
