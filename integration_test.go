package mcpauth_test

// Integration with the demo OpenID provider: client ID metadata documents,
// and the provider's refusals (wrong resource, replayed code, wrong PKCE
// verifier) reported clearly by the client.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// TestIntegration_REG3_ClientIDMetadataDocument: with a metadata document
// published (here on loopback) and an AS that supports them, the client
// uses the document's URL as its client_id and registers nothing.
func TestIntegration_REG3_ClientIDMetadataDocument(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	meta := registration.Metadata{ClientName: "mcpauth CIMD test", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	var docURL string
	docSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := registration.Document(docURL, meta.Defaults(true))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	defer docSrv.Close()
	docURL = docSrv.URL + "/client.json"

	var reg *registration.Client
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{
		Step: headless(), Client: meta, ClientIDMetadataURL: docURL,
		Observer: func(e mcpauth.Event) {
			if e.Kind == mcpauth.EventRegistration {
				reg = e.Client
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tr.Login(context.Background())
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	st := d.as.Stats()
	if reg == nil || reg.Kind != registration.MetadataDocument || reg.ID != docURL {
		t.Errorf("client = %+v, want the metadata document %s", reg, docURL)
	}
	if st.Registrations != 0 || st.CIMDFetches != 1 {
		t.Errorf("registrations = %d, document fetches = %d; want 0 and 1", st.Registrations, st.CIMDFetches)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token: the document's grant_types include refresh_token, so SEP-2207 applies")
	}
}

// TestIntegration_RES1_UnknownResourceRejected: an AS that does not serve
// the resource refuses the authorization with invalid_target, and the
// client reports the AS's refusal as a typed error.
func TestIntegration_RES1_UnknownResourceRejected(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	as, err := authserver.Start(ctx, authserver.Config{AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	// as.AddResource(ms.URL()) is deliberately not called.
	tr, _ := mcpauth.NewTransport(ms.URL(), mcpauth.Config{Step: headless()})
	_, err = tr.Login(ctx)
	var ae *mcpauth.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "invalid_target" {
		t.Fatalf("err = %v, want an AuthorizationError invalid_target", err)
	}
	t.Logf("reported as: %v", err)
}

// TestIntegration_PKCE1_ReplayedCodeAndWrongVerifier: the provider refuses
// a code presented twice and a code with the wrong PKCE verifier; the
// client reports each as a TokenError invalid_grant naming the endpoint.
func TestIntegration_PKCE1_ReplayedCodeAndWrongVerifier(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	var f discovery.Fetcher
	md, err := f.ServerMetadata(ctx, d.as.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	code := func(t *testing.T, client *registration.Client, session authorize.Session) (authorize.Request, string) {
		req := authorize.New()
		req.Endpoint, req.Issuer, req.IssParameterSupported = md.AuthorizationEndpoint, md.Issuer, md.AuthorizationResponseIssParameterSupported
		req.ClientID, req.RedirectURI, req.Resource, req.Scopes = client.ID, session.RedirectURI(), d.ms.URL(), []string{"mcp:read"}
		u, err := req.URL()
		if err != nil {
			t.Fatal(err)
		}
		c, err := session.Wait(ctx, u, req.Verify)
		if err != nil {
			t.Fatal(err)
		}
		return req, c
	}
	newSession := func(t *testing.T) authorize.Session {
		s, err := headless().Start(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	first := newSession(t)
	client, err := registration.Register(ctx, nil, md.Issuer, md.RegistrationEndpoint,
		registration.Metadata{ClientName: "pkce test", RedirectURIs: []string{first.RedirectURI()}}.Defaults(true))
	if err != nil {
		t.Fatal(err)
	}
	ep := &token.Endpoint{URL: md.TokenEndpoint, Issuer: md.Issuer, Auth: token.AuthFor(client, md.TokenEndpointAuthMethodsSupported)}

	t.Run("replayed code", func(t *testing.T) {
		req, c := code(t, client, first)
		if _, err := ep.Exchange(ctx, c, req.Verifier, req.RedirectURI, req.Resource, req.Scopes); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		_, err := ep.Exchange(ctx, c, req.Verifier, req.RedirectURI, req.Resource, req.Scopes)
		assertTokenError(t, err, "invalid_grant", md.TokenEndpoint, c)
	})
	t.Run("wrong verifier", func(t *testing.T) {
		req, c := code(t, client, newSession(t))
		wrong := authorize.New().Verifier
		_, err := ep.Exchange(ctx, c, wrong, req.RedirectURI, req.Resource, req.Scopes)
		assertTokenError(t, err, "invalid_grant", md.TokenEndpoint, c, wrong, req.Verifier)
	})
}

func assertTokenError(t *testing.T, err error, code, endpoint string, secrets ...string) {
	t.Helper()
	var te *token.Error
	if !errors.As(err, &te) || te.Code != code {
		t.Fatalf("err = %v, want a token.Error %s", err, code)
	}
	msg := err.Error()
	if !strings.Contains(msg, endpoint) {
		t.Errorf("error %q does not name the endpoint %s", msg, endpoint)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error %q leaks a code or verifier", msg)
		}
	}
	t.Logf("reported as: %v", err)
}
