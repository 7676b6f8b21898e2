package registration

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseResponse: a dynamic registration answer (RFC 7591 §3.2) yields
// a client only for a 200 or 201 with a client_id, recorded for the issuer
// it was made at, with grant types and redirect URIs (the server's or the
// requested ones), and a client without a secret never authenticates with
// one; anything else is a *Error naming the endpoint and status, whose
// message is bounded and safe to print.
func FuzzParseResponse(f *testing.F) {
	const endpoint, issuer = "https://auth.example.com/register", "https://auth.example.com"
	requested := Metadata{ClientName: "fuzz", RedirectURIs: []string{"http://127.0.0.1:1/callback"}}.Defaults(true)
	for _, s := range []struct {
		status int
		body   string
	}{
		{201, `{"client_id":"abc","client_id_issued_at":1700000000}`},
		{201, `{"client_id":"abc","client_secret":"s3cr3t","client_secret_expires_at":2000000000,"token_endpoint_auth_method":"client_secret_basic","grant_types":["authorization_code"]}`},
		{200, `{"client_id":"abc","token_endpoint_auth_method":"client_secret_post"}`},
		{201, `{"client_name":"x"}`},
		{201, `{"client_id":""}`},
		{201, `<html>`},
		{201, `null`},
		{201, `{"client_id":"abc","client_secret_expires_at":-1,"client_id_issued_at":9223372036854775807}`},
		{400, `{"error":"invalid_redirect_uri","error_description":"loopback not allowed"}`},
		{400, `{"error":"invalid_client_metadata","error_description":"\u001b[2J\u202eevil"}`},
		{500, ``},
		{302, `{"client_id":"abc"}`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 100 + abs(status)%500
		c, err := parseResponse(endpoint, issuer, status, body, requested)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || re.Endpoint != endpoint || re.StatusCode != status || c != nil {
				t.Fatalf("error %#v, client %v", err, c)
			}
			msg := err.Error()
			if strings.ContainsFunc(msg, unicode.IsControl) || strings.ContainsAny(msg, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
				t.Fatalf("unsafe message %q", msg)
			}
			if len(msg) > 2048 {
				t.Fatalf("message of %d bytes", len(msg))
			}
			return
		}
		if status != http.StatusOK && status != http.StatusCreated {
			t.Fatalf("client from a %d answer", status)
		}
		if c.ID == "" || c.Kind != Dynamic || c.Issuer != issuer {
			t.Fatalf("client %+v", c)
		}
		if len(c.GrantTypes) == 0 || len(c.RedirectURIs) == 0 {
			t.Fatalf("client without grant types or redirect URIs: %+v", c)
		}
		if c.Secret == "" && c.AuthMethod != AuthNone && c.AuthMethod != AuthPrivateKeyJWT {
			t.Fatalf("public client with auth method %q", c.AuthMethod)
		}
		// However it is printed, the client does not show its secret.
		shown := c.ID + c.Issuer + c.AuthMethod + string(c.Kind) + "client{kind= issuer= client_id= auth= secret=[redacted]}"
		if c.Secret != "" && !strings.Contains(shown, c.Secret) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				if out := fmt.Sprintf(verb, c); strings.Contains(out, c.Secret) {
					t.Fatalf("%s shows the secret: %s", verb, out)
				}
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}
