package mcpserver_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
)

// Starting the demo pair: the authorization server first (its issuer goes
// into the MCP server's metadata), then the MCP server, whose URL becomes a
// resource the authorization server issues tokens for.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops both servers

	as, err := authserver.Start(ctx, authserver.Config{AutoApprove: true})
	if err != nil {
		log.Fatal(err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		log.Fatal(err)
	}
	as.AddResource(ms.URL())

	fmt.Println("MCP server:", ms.URL())
	fmt.Println("issuer:    ", as.Issuer())
}
