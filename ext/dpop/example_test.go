package dpop_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
)

// DPoP on top of the usual authorization code flow: the same Transport
// signs the token requests (so the tokens are bound to the key) and the
// MCP requests (so the bound token is accepted), and handles the servers'
// nonces. The key lives with the credentials, so the bound refresh token
// survives a restart.
func ExampleTransport() {
	ctx := context.Background()
	const server = "https://mcp.example.com/mcp"
	var creds store.Store = store.NewMemory() // a persistent store in a real client

	key, creds, err := dpop.LoadOrCreateKey(ctx, creds, server)
	if err != nil {
		log.Fatal(err)
	}
	d := dpop.NewTransport(key, nil)
	tr, err := mcpauth.NewTransport(server, mcpauth.Config{
		Base:       d,          // MCP requests: Authorization: DPoP plus a proof with ath
		HTTPClient: d.Client(), // token requests: a proof, so the tokens are DPoP-bound
		Store:      creds,
		// Registered as a client whose tokens are always DPoP-bound.
		Client: registration.Metadata{DPoPBoundAccessTokens: true},
		Step: &authorize.Loopback{Open: func(_ context.Context, authURL string) error {
			fmt.Println("Open this URL to authorize:", authURL)
			return nil
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client() // an *http.Client for the MCP SDK's HTTP transport
}
