package clientcredentials_test

import (
	"log"
	"net/http"
	"os"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/clientcredentials"
	"github.com/mcpauth/mcpauth/ext/jwtauth"
	"github.com/mcpauth/mcpauth/registration"
)

// A service authenticates as itself with a client secret: no browser, no
// person. The transport still discovers the server's metadata, sends the
// resource indicator and retries the MCP request once it has a token.
func ExampleGrant() {
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Grant: clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{
			"https://auth.example.com": {ClientID: "reporting-service", Secret: os.Getenv("MCP_CLIENT_SECRET")},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: tr} // hand it to the MCP SDK's HTTP transport
	_ = client
}

// With private_key_jwt instead of a secret (what SEP-1046 recommends).
func ExampleGrant_privateKeyJWT() {
	pem, err := os.ReadFile("/etc/reporting-service/key.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := jwtauth.ParseKey(pem, "")
	if err != nil {
		log.Fatal(err)
	}
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Grant:      clientcredentials.Grant{},
		ClientAuth: (&jwtauth.Method{Key: key}).ClientAuth,
		PreRegistered: map[string]mcpauth.PreRegisteredClient{
			"https://auth.example.com": {ClientID: "reporting-service", AuthMethod: registration.AuthPrivateKeyJWT},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client()
}
