package jwtauth_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/ext/jwtauth"
	"github.com/mcpauth/mcpauth/registration"
)

// A client registered at its authorization server with a public key
// authenticates with private_key_jwt on every token request, here in the
// authorization code flow (refreshes included).
func ExampleMethod() {
	pem, err := os.ReadFile("/etc/mcp-client/key.pem") // or a JWK
	if err != nil {
		log.Fatal(err)
	}
	key, err := jwtauth.ParseKey(pem, "ES256")
	if err != nil {
		log.Fatal(err) // says what is wrong with the key, never quotes it
	}
	m := &jwtauth.Method{Key: key} // aud: the issuer; AudienceTokenEndpoint for old servers
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Step: &authorize.Loopback{Open: func(_ context.Context, authURL string) error {
			fmt.Println("Open this URL to authorize:", authURL)
			return nil
		}},
		ClientAuth: m.ClientAuth,
		PreRegistered: map[string]mcpauth.PreRegisteredClient{
			"https://auth.example.com": {ClientID: "my-client", AuthMethod: registration.AuthPrivateKeyJWT},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client() // an *http.Client for the MCP SDK's transport
}
