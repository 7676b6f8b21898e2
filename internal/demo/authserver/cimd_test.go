package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// cimdHost serves client ID metadata documents on 127.0.0.1.
func cimdHost(t *testing.T, doc func(url string) map[string]any) (string, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc(srv.URL + r.URL.Path))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/client.json", &hits
}

// REG-3: a CIMD client id works without registration; the document is cached.
func TestCIMD_Flow(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	id, hits := cimdHost(t, func(u string) map[string]any {
		return map[string]any{
			"client_id": u, "client_name": "Doc Client", "redirect_uris": []string{redirectURI},
			"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		}
	})
	reg := authserver.Registration{ClientID: id}
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Error("CIMD client with refresh_token grant got no refresh token")
	}
	if c := claims(t, s, tok.AccessToken); c["client_id"] != id {
		t.Errorf("client_id claim = %v", c["client_id"])
	}
	if status, body := postToken(t, s, refreshForm(id, tok.RefreshToken)); status != 200 {
		t.Errorf("refresh: %d %v", status, body)
	}
	if hits.Load() != 1 || s.Stats().CIMDFetches != 1 {
		t.Errorf("document fetched %d times (stats %d), want 1 (cached)", hits.Load(), s.Stats().CIMDFetches)
	}
	// Loopback redirects of a CIMD client with only loopback redirect URIs
	// may use any port (the client is treated as native).
	f.Config.RedirectURL = "http://127.0.0.1:9999/callback"
	if _, err := f.Run(ctx(t)); err != nil {
		t.Errorf("port variant: %v", err)
	}
}

func TestCIMD_InvalidDocuments(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	cases := map[string]func(u string) map[string]any{
		"client_id mismatch": func(u string) map[string]any {
			return map[string]any{"client_id": u + "x", "client_name": "X", "redirect_uris": []string{redirectURI}}
		},
		"no client_name": func(u string) map[string]any {
			return map[string]any{"client_id": u, "redirect_uris": []string{redirectURI}}
		},
		"no redirect_uris": func(u string) map[string]any {
			return map[string]any{"client_id": u, "client_name": "X"}
		},
		"secret": func(u string) map[string]any {
			return map[string]any{"client_id": u, "client_name": "X", "redirect_uris": []string{redirectURI},
				"token_endpoint_auth_method": "client_secret_basic"}
		},
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			id, _ := cimdHost(t, doc)
			_, err := flow(s, oauthConfig(s, authserver.Registration{ClientID: id}, "mcp:read")).Run(ctx(t))
			if he, ok := err.(*demotest.HTTPError); !ok || he.Status != 400 {
				t.Errorf("got %v, want a 400 page (no redirect)", err)
			}
		})
	}
	// https-only mode refuses loopback http documents.
	s2 := start(t, authserver.Config{AutoApprove: true, CIMDHTTPSOnly: true})
	id, hits := cimdHost(t, func(u string) map[string]any {
		return map[string]any{"client_id": u, "client_name": "X", "redirect_uris": []string{redirectURI}}
	})
	if _, err := flow(s2, oauthConfig(s2, authserver.Registration{ClientID: id}, "mcp:read")).Run(ctx(t)); err == nil || hits.Load() != 0 {
		t.Errorf("https-only: err=%v fetches=%d", err, hits.Load())
	}
}
