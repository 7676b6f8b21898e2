package dpop_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestProof(t *testing.T) {
	k := mustKey(t)
	u, _ := url.Parse("http://127.0.0.1:8080/mcp?session=1#frag")
	at := time.Unix(1_700_000_000, 0)
	p, err := dpop.Proof(k, dpop.ProofRequest{Method: "POST", URL: u, AccessToken: "tok", Nonce: "n-1", Time: at})
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: "POST", Host: "127.0.0.1:8080", URL: u, Header: http.Header{"Dpop": {p}}}
	c, err := checkProof(req, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTU != "http://127.0.0.1:8080/mcp" || c.IAT != at.Unix() || c.Nonce != "n-1" {
		t.Errorf("claims %+v", c)
	}
	if c.JKT != k.Thumbprint() {
		t.Errorf("jwk thumbprint %s, key %s", c.JKT, k.Thumbprint())
	}
	if c.ATH != keys.HashToken("tok") {
		t.Errorf("ath %s", c.ATH)
	}
	// The access token and ath of RFC 9449's examples (§7.1).
	if got := keys.HashToken("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("ath of the RFC example token = %s", got)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[0])
	if strings.Contains(string(hdr), `"d"`) {
		t.Errorf("the header holds the private key: %s", hdr)
	}

	p2, _ := dpop.Proof(k, dpop.ProofRequest{Method: "POST", URL: u, AccessToken: "tok"})
	c2, err := checkProof(&http.Request{Method: "POST", Host: "127.0.0.1:8080", URL: u, Header: http.Header{"Dpop": {p2}}}, "tok")
	if err != nil || c2.JTI == c.JTI {
		t.Errorf("second proof: %v, jti reused: %v", err, c2 != nil && c2.JTI == c.JTI)
	}
	if time.Since(time.Unix(c2.IAT, 0)) > time.Minute {
		t.Errorf("default iat %d is not now", c2.IAT)
	}
}

func TestProofBadInput(t *testing.T) {
	u, _ := url.Parse("https://as.example/token")
	if _, err := dpop.Proof(nil, dpop.ProofRequest{Method: "POST", URL: u}); !errors.Is(err, dpop.ErrNoKey) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := dpop.Proof(mustKey(t), dpop.ProofRequest{URL: u}); err == nil {
		t.Error("no method accepted")
	}
	rel, _ := url.Parse("/token")
	if _, err := dpop.Proof(mustKey(t), dpop.ProofRequest{Method: "POST", URL: rel}); err == nil {
		t.Error("relative URL accepted")
	}
}

func TestTargetURI(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://MCP.Example.com/Path/x?q=1#f": "https://mcp.example.com/Path/x",
		"https://mcp.example.com":              "https://mcp.example.com/",
		"http://127.0.0.1:3000/a%20b":          "http://127.0.0.1:3000/a%20b",
	} {
		u, _ := url.Parse(in)
		got, err := dpop.TargetURI(u)
		if err != nil || got != want {
			t.Errorf("TargetURI(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestKeyErrors(t *testing.T) {
	if _, err := dpop.ParseKey(nil, ""); !errors.Is(err, dpop.ErrNoKey) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := dpop.ParseKey([]byte(`{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}`), ""); !errors.Is(err, dpop.ErrWrongKeyType) {
		t.Errorf("symmetric key: %v", err)
	}
	k := mustKey(t)
	b, _ := k.MarshalJWK()
	if _, err := dpop.ParseKey(b, "RS256"); !errors.Is(err, dpop.ErrWrongKeyType) {
		t.Errorf("EC key for RS256: %v", err)
	}
	pub, _ := json.Marshal(k.Public())
	if _, err := dpop.ParseKey(pub, ""); !errors.Is(err, dpop.ErrPublicKeyOnly) {
		t.Errorf("public key: %v", err)
	}
}
