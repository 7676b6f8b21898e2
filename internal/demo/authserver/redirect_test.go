package authserver_test

import (
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// RFC 8252 §7.3: a native client may use any port on its registered
// loopback redirect URI; host, scheme and path must still match.
func TestRedirect_LoopbackPortVariant(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	md := nativeClient()
	md.RedirectURIs = []string{"http://127.0.0.1/callback", "http://[::1]:1234/cb"}
	reg := register(t, s, md)
	for uri, ok := range map[string]bool{
		"http://127.0.0.1:5555/callback":     true,
		"http://127.0.0.1/callback":          true,
		"http://[::1]:6000/cb":               true,
		"http://localhost:5555/callback":     false, // other host
		"http://127.0.0.1:5555/other":        false, // other path
		"https://127.0.0.1:5555/callback":    false, // other scheme
		"http://127.0.0.1:5555/callback?x=1": false,
	} {
		cfg := oauthConfig(s, reg, "mcp:read")
		cfg.RedirectURL = uri
		_, err := flow(s, cfg).Run(ctx(t))
		if ok && err != nil {
			t.Errorf("%s: %v", uri, err)
		}
		if he, isHTTP := err.(*demotest.HTTPError); !ok && (!isHTTP || he.Status != 400) {
			t.Errorf("%s: %v, want a 400 page", uri, err)
		}
	}
	// A web client gets exact matching only.
	md.ApplicationType = "web"
	md.RedirectURIs = []string{redirectURI}
	web := register(t, s, md)
	cfg := oauthConfig(s, web, "mcp:read")
	cfg.RedirectURL = "http://127.0.0.1:5555/callback"
	if _, err := flow(s, cfg).Run(ctx(t)); err == nil {
		t.Error("web client: port variant accepted")
	}
}
