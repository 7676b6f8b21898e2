package workload_test

import (
	"log"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/workload"
)

// An agent running in Kubernetes presents its projected service account
// token, which the kubelet rotates in place, to the MCP server's
// authorization server (SEP-1933). The server trusts the cluster's issuer;
// the client has no secret and needs no registration beyond naming the
// authorization server it federates with.
func ExampleGrant() {
	tr, err := mcpauth.NewTransport("https://mcp.example.com/mcp", mcpauth.Config{
		Grant: &workload.Grant{Source: workload.File("/var/run/secrets/tokens/mcp-token")},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{
			"https://auth.example.com": {}, // no client_id: the JWT is the credential
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = tr.Client() // an *http.Client for the MCP SDK's HTTP transport
}
