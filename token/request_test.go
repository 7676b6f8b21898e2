package token_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// tokenServer answers every token request with status and body.
func tokenServer(t *testing.T, status int, body string) (*oauthtest.Server, *token.Endpoint) {
	srv := oauthtest.NewServer(t)
	srv.Handle("/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return srv, &token.Endpoint{URL: srv.URL + "/token", Issuer: srv.URL, Auth: token.None{ClientID: "cid"}, Now: func() time.Time { return t0 }}
}

// TestExchange_RES1_PKCE1: the code exchange sends the code, the PKCE
// verifier, the redirect URI and the resource byte for byte, and no scope.
func TestExchange_RES1_PKCE1(t *testing.T) {
	srv, ep := tokenServer(t, 200, `{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt"}`)
	const resource = "http://127.0.0.1:1/MCP/"
	tok, err := ep.Exchange(context.Background(), "the-code", "the-verifier", "http://127.0.0.1:2/callback", resource, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.RequestsTo("/token")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	want := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"the-code"},
		"code_verifier": {"the-verifier"},
		"redirect_uri":  {"http://127.0.0.1:2/callback"},
		"resource":      {resource},
		"client_id":     {"cid"},
	}
	if got := r.Form(); !reflect.DeepEqual(got, want) {
		t.Errorf("form\n got %v\nwant %v", got, want)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.RawQuery != "" {
		t.Errorf("%s %q ?%s", r.Method, r.Header.Get("Content-Type"), r.RawQuery)
	}
	if tok.AccessToken != "at" || tok.RefreshToken != "rt" || tok.Issuer != srv.URL || !tok.IssuedAt.Equal(t0) ||
		!tok.Expiry.Equal(t0.Add(time.Hour)) || !reflect.DeepEqual(tok.Scope, []string{"a", "b"}) {
		t.Errorf("token %+v", tok)
	}
}

// TestRefresh_RES1_REF5: a refresh sends grant_type=refresh_token, the
// resource and the scope held; the old refresh token is kept when the
// server sends none, replaced when it rotates.
func TestRefresh_RES1_REF5(t *testing.T) {
	srv, ep := tokenServer(t, 200, `{"access_token":"at2","token_type":"Bearer","scope":"a"}`)
	old := &token.Token{Token: oauth2.Token{AccessToken: "at1", RefreshToken: "rt1"}, Scope: []string{"a", "offline_access"}}
	tok, err := ep.Refresh(context.Background(), old, "https://mcp.example/mcp")
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {"rt1"},
		"resource":      {"https://mcp.example/mcp"},
		"scope":         {"a offline_access"},
		"client_id":     {"cid"},
	}
	if got := srv.RequestsTo("/token")[0].Form(); !reflect.DeepEqual(got, want) {
		t.Errorf("form\n got %v\nwant %v", got, want)
	}
	if tok.AccessToken != "at2" || tok.RefreshToken != "rt1" || !reflect.DeepEqual(tok.Scope, []string{"a"}) || !tok.Expiry.IsZero() {
		t.Errorf("token %+v", tok)
	}

	_, ep = tokenServer(t, 200, `{"access_token":"at3","token_type":"Bearer","refresh_token":"rt2"}`)
	if tok, _ = ep.Refresh(context.Background(), old, ""); tok.RefreshToken != "rt2" {
		t.Errorf("rotated refresh token not kept: %q", tok.RefreshToken)
	}
}

// TestDo_Errors: RFC 6749 §5.2 errors and unusable responses become a
// *token.Error that holds no credential.
func TestDo_Errors(t *testing.T) {
	const (
		code     = "CODE-SECRET-123"
		verifier = "VERIFIER-SECRET-456"
		secret   = "CS-SECRET-789"
	)
	tests := []struct {
		name   string
		status int
		body   string
		check  func(*token.Error) bool
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"code expired"}`,
			func(e *token.Error) bool {
				return e.Code == "invalid_grant" && e.Description == "code expired" && e.StatusCode == 400
			}},
		{"invalid_client 401", 401, `{"error":"invalid_client"}`,
			func(e *token.Error) bool { return e.Code == "invalid_client" && e.StatusCode == 401 }},
		{"HTML error page", 500, `<html>oops</html>`,
			func(e *token.Error) bool { return e.Code == "" && strings.Contains(e.Reason, "not an OAuth error") }},
		{"200 without access_token", 200, `{"token_type":"Bearer"}`,
			func(e *token.Error) bool { return strings.Contains(e.Reason, "access_token") }},
		{"200 without token_type", 200, `{"access_token":"AT-SECRET"}`,
			func(e *token.Error) bool { return strings.Contains(e.Reason, "token_type") }},
		{"200 with MAC token_type", 200, `{"access_token":"AT-SECRET","token_type":"mac"}`,
			func(e *token.Error) bool { return strings.Contains(e.Reason, "mac") }},
		{"200 not JSON", 200, `access_token=AT-SECRET&token_type=bearer`,
			func(e *token.Error) bool { return strings.Contains(e.Reason, "JSON") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ep := tokenServer(t, tt.status, tt.body)
			ep.Auth = token.SecretPost{ClientID: "cid", Secret: secret}
			_, err := ep.Exchange(context.Background(), code, verifier, "http://127.0.0.1:1/cb", "https://r", nil)
			var te *token.Error
			if !errors.As(err, &te) || !tt.check(te) {
				t.Fatalf("err = %#v", err)
			}
			if !strings.Contains(err.Error(), ep.URL) {
				t.Errorf("error does not name the endpoint: %s", err)
			}
			for _, s := range []string{code, verifier, secret, "AT-SECRET"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows %q: %s", s, err)
				}
			}
		})
	}
}

// TestDo_NetworkErrorHoldsNoSecret: a transport failure names the
// endpoint, never the form.
func TestDo_NetworkErrorHoldsNoSecret(t *testing.T) {
	ep := &token.Endpoint{URL: oauthtest.ClosedURL(t) + "/token", Auth: token.SecretPost{ClientID: "cid", Secret: "CS-SECRET"}}
	_, err := ep.Exchange(context.Background(), "CODE-SECRET", "VERIFIER-SECRET", "", "", nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"CODE-SECRET", "VERIFIER-SECRET", "CS-SECRET"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %q: %s", s, err)
		}
	}
}

// TestDo_RDR1_RefusesInsecureEndpoint: the token endpoint must be https or
// loopback http; nothing is sent otherwise.
func TestDo_RDR1_RefusesInsecureEndpoint(t *testing.T) {
	for _, u := range []string{"http://as.example/token", "file:///token", "javascript:x"} {
		ep := &token.Endpoint{URL: u}
		if _, err := ep.Exchange(context.Background(), "c", "v", "", "", nil); err == nil {
			t.Errorf("endpoint %q accepted", u)
		}
	}
}

// TestExpiresIn: expires_in as a number or a string; absurd values count
// as unknown.
func TestExpiresIn(t *testing.T) {
	tests := []struct {
		raw  string
		want time.Duration // 0: no expiry
	}{
		{`3600`, time.Hour},
		{`"3600"`, time.Hour},
		{`1.5`, 1500 * time.Millisecond},
		{`0`, 0},
		{`-5`, 0},
		{`null`, 0},
		{`"soon"`, 0},
		{`1e12`, 0},
		{`true`, 0},
	}
	for _, tt := range tests {
		_, ep := tokenServer(t, 200, `{"access_token":"a","token_type":"Bearer","expires_in":`+tt.raw+`}`)
		tok, err := ep.Exchange(context.Background(), "c", "v", "", "", nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		var got time.Duration
		if !tok.Expiry.IsZero() {
			got = tok.Expiry.Sub(t0)
		}
		if got != tt.want {
			t.Errorf("expires_in %s: lifetime %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestAuthFor: the client authentication chosen for a client at a token
// endpoint, and how each applies its credentials.
func TestAuthFor(t *testing.T) {
	tests := []struct {
		name      string
		c         registration.Client
		supported []string
		want      token.ClientAuth
	}{
		{"public", registration.Client{ID: "p"}, nil, token.None{ClientID: "p"}},
		{"registered basic", registration.Client{ID: "i", Secret: "s", AuthMethod: "client_secret_basic"}, []string{"client_secret_post"}, token.SecretBasic{ClientID: "i", Secret: "s"}},
		{"registered post", registration.Client{ID: "i", Secret: "s", AuthMethod: "client_secret_post"}, nil, token.SecretPost{ClientID: "i", Secret: "s"}},
		{"unknown method, nothing advertised: basic", registration.Client{ID: "i", Secret: "s"}, nil, token.SecretBasic{ClientID: "i", Secret: "s"}},
		{"unknown method, post only", registration.Client{ID: "i", Secret: "s"}, []string{"client_secret_post"}, token.SecretPost{ClientID: "i", Secret: "s"}},
	}
	for _, tt := range tests {
		if got := token.AuthFor(&tt.c, tt.supported); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: AuthFor = %#v, want %#v", tt.name, got, tt.want)
		}
	}

	// RFC 6749 §2.3.1: basic credentials are form-encoded first.
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	form := url.Values{}
	_ = token.SecretBasic{ClientID: "a b:c", Secret: "p@ss/w+rd"}.Apply(req, form, "")
	id, secret, ok := req.BasicAuth()
	if !ok || id != "a+b%3Ac" || secret != "p%40ss%2Fw%2Brd" || len(form) != 0 {
		t.Errorf("basic %q %q %v, form %v", id, secret, ok, form)
	}
}

// TestFresh_RefreshMargin: a token is refreshed a tenth of its lifetime
// before expiry, between 1 s and 60 s; an 8 s token is not refreshed on
// every request.
func TestFresh_RefreshMargin(t *testing.T) {
	tests := []struct {
		lifetime, margin time.Duration
	}{
		{8 * time.Second, time.Second},
		{10 * time.Second, time.Second},
		{60 * time.Second, 6 * time.Second},
		{time.Hour, time.Minute},
		{24 * time.Hour, time.Minute},
		{time.Second, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := token.RefreshMargin(tt.lifetime); got != tt.margin {
			t.Errorf("RefreshMargin(%v) = %v, want %v", tt.lifetime, got, tt.margin)
		}
		tok := &token.Token{Token: oauth2.Token{AccessToken: "a", Expiry: t0.Add(tt.lifetime)}, IssuedAt: t0}
		if !tok.Fresh(t0.Add(tt.lifetime - tt.margin - time.Millisecond)) {
			t.Errorf("%v token not fresh just before its margin", tt.lifetime)
		}
		if tok.Fresh(t0.Add(tt.lifetime - tt.margin)) {
			t.Errorf("%v token fresh inside its margin", tt.lifetime)
		}
	}
	if !(&token.Token{Token: oauth2.Token{AccessToken: "a"}}).Fresh(t0) {
		t.Error("token without expiry not fresh")
	}
	var none *token.Token
	if none.Fresh(t0) || none.CanRefresh() || (&token.Token{}).Fresh(t0) {
		t.Error("nil or empty token usable")
	}
}

// TestPost: a request that is not a grant of this package gets the body of
// a 200 answer as it is, and any other answer as an *Error without the
// request's credentials.
func TestPost(t *testing.T) {
	_, ep := tokenServer(t, 200, `{"issued_token_type":"urn:x","access_token":"JAG"}`)
	body, err := ep.Post(context.Background(), "token exchange", url.Values{"subject_token": {"ST-SECRET"}})
	if err != nil || string(body) != `{"issued_token_type":"urn:x","access_token":"JAG"}` {
		t.Fatalf("Post = %s, %v", body, err)
	}

	_, ep = tokenServer(t, 400, `{"error":"invalid_grant","error_description":"bad ST-SECRET"}`)
	_, err = ep.Post(context.Background(), "token exchange", url.Values{"subject_token": {"ST-SECRET"}})
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "invalid_grant" || strings.Contains(err.Error(), "ST-SECRET") {
		t.Errorf("err = %v, want invalid_grant without the subject token", err)
	}
}
