package registration_test

import (
	"reflect"
	"testing"

	"github.com/mcpauth/mcpauth/registration"
)

// TestMetadataDefaults_REG4_REF2 covers the defaults a client registers
// with, and DisableRefreshTokens' effect (refreshTokens false).
func TestMetadataDefaults_REG4_REF2(t *testing.T) {
	tests := []struct {
		name          string
		in            registration.Metadata
		refresh       bool
		wantGrants    []string
		wantApp       string
		wantScope     string
		wantAuth      string
		wantResponses []string
	}{
		{
			name:    "loopback client with refresh tokens",
			in:      registration.Metadata{RedirectURIs: []string{"http://127.0.0.1:1234/cb"}},
			refresh: true, wantGrants: []string{"authorization_code", "refresh_token"},
			wantApp: "native", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name:    "localhost and [::1] are loopback too",
			in:      registration.Metadata{RedirectURIs: []string{"http://localhost:1/cb", "http://[::1]:2/cb"}},
			refresh: true, wantGrants: []string{"authorization_code", "refresh_token"},
			wantApp: "native", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name:    "https redirect is a web client",
			in:      registration.Metadata{RedirectURIs: []string{"https://app.example/cb"}},
			refresh: true, wantGrants: []string{"authorization_code", "refresh_token"},
			wantApp: "web", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name:    "no redirect yet is native",
			refresh: true, wantGrants: []string{"authorization_code", "refresh_token"},
			wantApp: "native", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name:    "refresh disabled: default grants lose refresh_token",
			in:      registration.Metadata{RedirectURIs: []string{"http://127.0.0.1:1/cb"}},
			refresh: false, wantGrants: []string{"authorization_code"},
			wantApp: "native", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name: "refresh disabled: application's grants and scope lose refresh_token and offline_access",
			in: registration.Metadata{GrantTypes: []string{"refresh_token", "authorization_code"},
				Scope: "offline_access mcp:read offline_access"},
			refresh: false, wantGrants: []string{"authorization_code"}, wantScope: "mcp:read",
			wantApp: "native", wantAuth: "none", wantResponses: []string{"code"},
		},
		{
			name: "application's choices are kept",
			in: registration.Metadata{GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "private_key_jwt",
				ApplicationType: "web", Scope: "a b"},
			refresh: true, wantGrants: []string{"client_credentials"}, wantScope: "a b",
			wantApp: "web", wantAuth: "private_key_jwt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			got := in.Defaults(tt.refresh)
			if !reflect.DeepEqual(got.GrantTypes, tt.wantGrants) || got.ApplicationType != tt.wantApp ||
				got.Scope != tt.wantScope || got.TokenEndpointAuthMethod != tt.wantAuth ||
				!reflect.DeepEqual(got.ResponseTypes, tt.wantResponses) {
				t.Errorf("Defaults(%v) = %+v", tt.refresh, got)
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Error("Defaults changed its receiver's slices")
			}
		})
	}
}

// TestClientFits_AS2: a stored registration serves a request only when
// its registered scope covers it and it holds the wanted grants.
func TestClientFits_AS2(t *testing.T) {
	c := &registration.Client{Scope: "mcp:tools", GrantTypes: []string{"authorization_code"}}
	if c.Fits([]string{"mcp:tools", "offline_access"}, nil) {
		t.Error("registration scope mcp:tools fits a request for offline_access too")
	}
	if !c.Fits([]string{"mcp:tools"}, []string{"authorization_code"}) {
		t.Error("exact fit refused")
	}
	if c.Fits(nil, []string{"authorization_code", "refresh_token"}) {
		t.Error("a client without refresh_token fits a request that needs it")
	}
	open := &registration.Client{}
	if !open.Fits([]string{"anything"}, []string{"refresh_token"}) {
		t.Error("a registration with no scope nor grants should fit")
	}
}

// TestCIMD_REG3: the client id is the document URL byte for byte; it must
// be https (or loopback http) with a path and no query; the document has
// client_id, client_name and redirect_uris.
func TestCIMD_REG3(t *testing.T) {
	const docURL = "https://client.example/mcp/client.json"
	md := registration.Metadata{ClientName: "c", RedirectURIs: []string{"http://127.0.0.1:1/cb"}}.Defaults(true)
	c, err := registration.MetadataDocumentClient("https://as.example", docURL, md)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != docURL || c.Kind != registration.MetadataDocument || c.AuthMethod != "none" || c.Issuer != "https://as.example" {
		t.Errorf("client %+v", c)
	}
	doc, err := registration.Document(docURL, md)
	if err != nil || doc.ClientID != docURL || doc.ClientName != "c" || len(doc.RedirectURIs) != 1 {
		t.Errorf("Document = %+v, %v", doc, err)
	}
	if _, err := registration.Document(docURL, registration.Metadata{ClientName: "c"}); err == nil {
		t.Error("document without redirect_uris accepted")
	}
	if _, err := registration.Document(docURL, registration.Metadata{RedirectURIs: []string{"http://127.0.0.1/cb"}}); err == nil {
		t.Error("document without client_name accepted")
	}
	for _, bad := range []string{"https://client.example", "https://client.example/", "https://client.example/c.json?v=1",
		"http://client.example/c.json", "javascript:alert(1)", "https://client.example/c.json#x"} {
		if err := registration.CheckDocumentURL(bad); err == nil {
			t.Errorf("CheckDocumentURL(%q) accepted", bad)
		}
	}
}
