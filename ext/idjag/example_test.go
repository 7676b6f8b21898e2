package idjag_test

import (
	"context"
	"log"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/idjag"
	"github.com/mcpauth/mcpauth/token"
)

// The person signed in to the client through the company's IdP; the
// client now reaches an MCP server with no consent screen: the IdP, by
// policy, issues an ID-JAG for that server, and the server's
// authorization server exchanges it for an access token.
func ExampleGrant() {
	session := struct{ IDToken string }{} // from the client's OpenID Connect sign-in
	tr, err := mcpauth.NewTransport("https://mcp.chat.example/mcp", mcpauth.Config{
		Grant: &idjag.Grant{
			IdP: &idjag.IdP{
				Issuer: "https://acme.idp.example", // its token endpoint is discovered
				Auth:   token.SecretBasic{ClientID: "client-at-idp", Secret: "secret-at-idp"},
			},
			SubjectToken: func(context.Context) (string, error) { return session.IDToken, nil },
		},
		// The client as registered at the MCP server's authorization server.
		PreRegistered: map[string]mcpauth.PreRegisteredClient{
			"https://auth.chat.example": {ClientID: "client-at-as", Secret: "secret-at-as"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client()
}
