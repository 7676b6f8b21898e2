package mcpserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
)

type env struct {
	as  *authserver.Server
	mcp *mcpserver.Server
	reg *authserver.Registration
}

const redirectURI = "http://127.0.0.1:4567/callback"

// setup starts both servers the way the demo does.
func setup(t *testing.T, cfg authserver.Config) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg.AutoApprove = true
	as, err := authserver.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	as.AddResource(ms.URL())
	t.Cleanup(func() { ms.Close(); as.Close() })
	reg, err := as.RegisterClient(authserver.ClientMetadata{
		ClientName: "mcpserver test", RedirectURIs: []string{redirectURI},
		TokenEndpointAuthMethod: "none", ApplicationType: "native",
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{as: as, mcp: ms, reg: reg}
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// token runs a code flow for resource with the given scopes.
func (e *env) token(t *testing.T, resource string, scopes ...string) string {
	t.Helper()
	f := &demotest.Flow{
		Config: &oauth2.Config{
			ClientID: e.reg.ClientID, RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{AuthURL: e.as.Issuer() + "/authorize", TokenURL: e.as.Issuer() + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		},
		Resource: resource,
		Issuer:   e.as.Issuer(),
	}
	tok, err := f.Run(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a go-sdk client session with the token.
func (e *env) connect(t *testing.T, token string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts)
	cs, err := c.Connect(testCtx(t), &mcp.StreamableClientTransport{
		Endpoint:   e.mcp.URL(),
		HTTPClient: &http.Client{Transport: bearer{token}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}
