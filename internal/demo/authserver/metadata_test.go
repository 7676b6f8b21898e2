package authserver_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

func getMetadata(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strings_(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// ASM-1, ASM-3: RFC 8414 and OIDC discovery, same issuer.
func TestMetadata_BothWellKnownURIs(t *testing.T) {
	s := start(t, authserver.Config{})
	oauth := getMetadata(t, s.Issuer()+"/.well-known/oauth-authorization-server")
	oidc := getMetadata(t, s.Issuer()+"/.well-known/openid-configuration")
	if !reflect.DeepEqual(oauth, oidc) {
		t.Errorf("documents differ:\n%v\n%v", oauth, oidc)
	}
	if oauth["issuer"] != s.Issuer() {
		t.Errorf("issuer = %v, want %s", oauth["issuer"], s.Issuer())
	}
	if got := strings_(oauth["code_challenge_methods_supported"]); !reflect.DeepEqual(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	scopes := strings_(oauth["scopes_supported"])
	for _, want := range []string{"openid", "profile", "offline_access", "mcp:read", "mcp:write"} {
		if !slices.Contains(scopes, want) {
			t.Errorf("scopes_supported %v lacks %s", scopes, want)
		}
	}
	for _, want := range []string{"none", "client_secret_basic", "client_secret_post"} {
		if !slices.Contains(strings_(oauth["token_endpoint_auth_methods_supported"]), want) {
			t.Errorf("token_endpoint_auth_methods_supported lacks %s", want)
		}
	}
	if oauth["authorization_response_iss_parameter_supported"] != true || oauth["client_id_metadata_document_supported"] != true {
		t.Errorf("iss/CIMD flags: %v %v", oauth["authorization_response_iss_parameter_supported"], oauth["client_id_metadata_document_supported"])
	}
	for _, k := range []string{"registration_endpoint", "revocation_endpoint", "jwks_uri", "token_endpoint", "authorization_endpoint"} {
		if v, _ := oauth[k].(string); v == "" {
			t.Errorf("%s missing", k)
		}
	}
}

func TestMetadata_RefreshDisabled(t *testing.T) {
	s := start(t, authserver.Config{DisableRefreshTokens: true})
	m := getMetadata(t, s.Issuer()+"/.well-known/oauth-authorization-server")
	if slices.Contains(strings_(m["scopes_supported"]), "offline_access") {
		t.Error("offline_access advertised with refresh tokens disabled")
	}
	if slices.Contains(strings_(m["grant_types_supported"]), "refresh_token") {
		t.Error("refresh_token grant advertised with refresh tokens disabled")
	}
}
