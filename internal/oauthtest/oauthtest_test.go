package oauthtest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// noRedirect is a client that stops at the first redirect.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestAS_CodeFlow checks the fake itself: it redirects with code, state
// and iss; it redeems a code once, only with the right PKCE verifier; and
// the resource accepts the token it issued.
func TestAS_CodeFlow(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{RefreshTokens: true, ExpiresIn: 60})
	res := oauthtest.NewResource(t, oauthtest.ResourceConfig{AS: []*oauthtest.AS{as}})
	const verifier = "0123456789012345678901234567890123456789abc"
	q := url.Values{
		"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"state": {"s1"}, "code_challenge": {oauthtest.S256(verifier)}, "code_challenge_method": {"S256"},
		"resource": {res.URL}, "scope": {"a b"},
	}
	resp, err := noRedirect.Get(as.URL + as.AuthorizePath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	lq := loc.Query()
	if resp.StatusCode != http.StatusFound || lq.Get("state") != "s1" || lq.Get("iss") != as.Issuer || !strings.HasPrefix(lq.Get("code"), oauthtest.CodeMarker) {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	exchange := func(v string) *http.Response {
		resp, err := http.PostForm(as.URL+as.TokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {lq.Get("code")},
			"code_verifier": {v}, "client_id": {"c"}, "redirect_uri": {"http://127.0.0.1:9/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := exchange("wrong-verifier-wrong-verifier-wrong-verifier"); r.StatusCode != 400 {
		t.Errorf("wrong verifier: %d", r.StatusCode)
	}
	// The failed attempt consumed the code, as a strict server does.
	if r := exchange(verifier); r.StatusCode != 400 {
		t.Errorf("used code redeemed: %d", r.StatusCode)
	}
	if n := len(as.TokenRequests()); n != 2 {
		t.Errorf("%d token requests recorded", n)
	}
}

// TestResource_Challenge: the fake MCP server's 401 challenge, and route
// replacement.
func TestResource_Challenge(t *testing.T) {
	res := oauthtest.NewResource(t, oauthtest.ResourceConfig{ChallengeResourceMetadata: true, ChallengeScope: "x y"})
	resp, err := http.Post(res.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer resource_metadata="` + res.MetadataURL() + `", scope="x y"`
	if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || got != want {
		t.Errorf("%d %q, want %q", resp.StatusCode, got, want)
	}
	res.Handle(res.Path, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	resp, err = http.Get(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || res.Count(res.Path) != 2 {
		t.Errorf("replaced route: %d, %d requests", resp.StatusCode, res.Count(res.Path))
	}
}

// TestBrowser_StopsWithoutRedirect: the browser reports an authorization
// endpoint that does not redirect, so the client's wait ends.
func TestBrowser_StopsWithoutRedirect(t *testing.T) {
	srv := oauthtest.NewServer(t)
	b := &oauthtest.Browser{}
	if err := b.Open(context.Background(), srv.URL+"/authorize"); err == nil {
		t.Error("no error for a 404 authorization endpoint")
	}
	if got := b.Opened(); len(got) != 1 {
		t.Errorf("opened %q", got)
	}
}
