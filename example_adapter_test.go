package mcpauth_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/store"
)

// openBrowser stands for whatever takes the person to the authorization
// page: the system browser (github.com/cli/browser, say), or a printed URL.
func openBrowser(_ context.Context, authURL string) error {
	fmt.Fprintln(os.Stderr, "To authorize, open:", authURL)
	return nil
}

// The official go-sdk client over Streamable HTTP, authorized by the
// Transport as its http.Client: every request, including go-sdk's
// standalone stream, carries the token, and a 401 or a 403
// insufficient_scope is handled before go-sdk sees it.
func ExampleNewTransport_goSDK() {
	const url = "https://mcp.example.com/mcp"
	tr, err := mcpauth.NewTransport(url, mcpauth.Config{Step: &authorize.Loopback{Open: openBrowser}})
	if err != nil {
		log.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "my-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: tr.Client()}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	// The older HTTP+SSE transport takes the same client:
	//	&mcp.SSEClientTransport{Endpoint: url, HTTPClient: tr.Client()}
}

// Switching from go-sdk's auth.AuthorizationCodeHandler: construct this
// handler instead, and keep the rest. It stores credentials, reuses the
// registration, asks for offline_access with prompt=consent, and refreshes
// with the resource.
func ExampleNewOAuthHandler() {
	const url = "https://mcp.example.com/mcp"
	st, err := store.Open(context.Background(), store.Options{Notice: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	h, err := mcpauth.NewOAuthHandler(url, mcpauth.Config{
		Store: st,
		Step:  &authorize.Loopback{Open: openBrowser},
	})
	if err != nil {
		log.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "my-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: h}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
}

// One Transport behind go-sdk's OAuthHandler hook and the program's own
// calls: the handler shares the Transport's tokens, so a "log out" command
// can revoke what the MCP session used.
func ExampleTransport_OAuthHandler() {
	const url = "https://mcp.example.com/mcp"
	tr, err := mcpauth.NewTransport(url, mcpauth.Config{Step: &authorize.Loopback{Open: openBrowser}})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "my-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: tr.OAuthHandler()}, nil)
	if err != nil {
		log.Fatal(err)
	}
	cs.Close()

	results, err := tr.Logout(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Printf("logged out of %s (revoked: %v)\n", r.Issuer, r.Revoked)
	}
}

// Credentials in a file that only the user can read (mode 0600 in a 0700
// directory), shared safely by concurrent processes: the next start finds
// the token, or refreshes it, without a login. store.Open picks the system
// keyring where there is one.
func ExampleNewTransport_fileStore() {
	dir, err := store.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.NewFile(dir)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Store: st,
		Step:  &authorize.Loopback{Open: openBrowser},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client() // for the MCP client
}

// A token for curl or a script: Token never starts a login (it refreshes
// when needed), so a script can fall back to an interactive Login.
func ExampleTransport_Token_curl() {
	const url = "https://mcp.example.com/mcp"
	st, err := store.Open(context.Background(), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	tr, err := mcpauth.NewTransport(url, mcpauth.Config{Store: st, Step: &authorize.Loopback{Open: openBrowser}})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tok, err := tr.Token(ctx)
	if mcpauth.IsLoginRequired(err) {
		tok, err = tr.Login(ctx) // the browser, once
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("curl -H 'Authorization: Bearer %s' %s\n", tok.AccessToken, url)
}
