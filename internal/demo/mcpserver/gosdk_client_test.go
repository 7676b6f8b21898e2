package mcpserver_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// Interop: go-sdk 1.8.0's own OAuth client finds the AS through the 401
// challenge and PRM, registers by DCR, authorizes (iss checked), calls
// tools, and steps up to mcp:write on the 403. As the spec records, it asks
// for offline_access without prompt=consent, so this strict server issues
// it no refresh token (REF-4).
func TestGoSDKClientInterop(t *testing.T) {
	e := setup(t, authserver.Config{})
	var browser demotest.Browser
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName: "go-sdk", RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RedirectURL:         redirectURI,
		RequestRefreshToken: true,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			loc, err := browser.Authorize(ctx, args.URL)
			if err != nil {
				return nil, err
			}
			q := loc.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "interop", Version: "1"}, nil)
	cs, err := c.Connect(testCtx(t), &mcp.StreamableClientTransport{Endpoint: e.mcp.URL(), HTTPClient: http.DefaultClient, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "whoami"}); err != nil || res.IsError {
		t.Fatalf("whoami: %v %v", err, res)
	}
	res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "write-note", Arguments: map[string]any{"text": "from go-sdk"}})
	if err != nil || res.IsError {
		t.Fatalf("write-note after step-up: %v %v", err, res)
	}
	st := e.as.Stats()
	t.Logf("AS stats: %+v; MCP stats: %+v", st, e.mcp.Stats())
	if st.RefreshTokensIssued != 0 {
		t.Errorf("refresh tokens issued without prompt=consent: %d", st.RefreshTokensIssued)
	}
	if len(e.mcp.Notes()) != 1 {
		t.Errorf("notes = %v", e.mcp.Notes())
	}
}
