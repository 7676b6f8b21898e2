package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
)

// The consent page names the client (escaped), the scopes, the resource, and
// explains offline_access; Approve completes the flow.
func TestConsent_ApprovePage(t *testing.T) {
	s := start(t, authserver.Config{})
	md := nativeClient("authorization_code", "refresh_token")
	md.ClientName = `<script>alert("x")</script> Tool`
	reg := register(t, s, md)
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	f.Prompt = "consent"
	tok, err := f.Run(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token after clicking approve")
	}
	if len(f.Browser.Pages) != 1 {
		t.Fatalf("consent pages seen: %d", len(f.Browser.Pages))
	}
	page := f.Browser.Pages[0]
	for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Tool", "mcp:read", "offline_access", "refresh token", testResource, "Approve", "Deny"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("client name not escaped")
	}
}

// Without prompt=consent the page says offline_access will not be granted.
func TestConsent_ExplainsDroppedOfflineAccess(t *testing.T) {
	s := start(t, authserver.Config{})
	reg := register(t, s, nativeClient("authorization_code", "refresh_token"))
	f := flow(s, oauthConfig(s, reg, "mcp:read", "offline_access"))
	if _, err := f.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Browser.Pages[0], "prompt=consent") {
		t.Error("page does not explain the dropped offline_access")
	}
}

// ISS-1: Deny answers access_denied with state and iss.
func TestConsent_DenyRedirectsWithIss(t *testing.T) {
	s := start(t, authserver.Config{})
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Browser.Action = "deny"
	_, _, err := f.Code(ctx(t)) // checks state and iss
	ae, ok := err.(*demotest.AuthError)
	if !ok || ae.Code != "access_denied" || ae.Redirect.Query().Get("iss") != s.Issuer() {
		t.Fatalf("deny: %v", err)
	}
	if st := s.Stats(); st.ConsentDenied != 1 || st.ConsentApproved != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// The consent form needs the request's csrf value and a same-origin POST.
func TestConsent_CSRF(t *testing.T) {
	s := start(t, authserver.Config{})
	reg := register(t, s, nativeClient())
	cfg := oauthConfig(s, reg, "mcp:read")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(cfg.AuthCodeURL("st", oauth2Param("code_challenge", strings.Repeat("a", 43)), oauth2Param("code_challenge_method", "S256")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("id")
	if resp.StatusCode != http.StatusFound || id == "" {
		t.Fatalf("no consent redirect: %d %v", resp.StatusCode, loc)
	}
	post := func(form url.Values, origin string) int {
		req, _ := http.NewRequest(http.MethodPost, s.Issuer()+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(url.Values{"id": {id}, "csrf": {"forged"}, "action": {"approve"}}, ""); code != http.StatusForbidden {
		t.Errorf("forged csrf: %d", code)
	}
	if code := post(url.Values{"id": {id}, "action": {"approve"}}, "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", code)
	}
	if s.Stats().ConsentApproved != 0 {
		t.Error("approved by a forged request")
	}
}

// Headless mode answers /authorize with a 302 straight to the client.
func TestConsent_AutoApproveRedirectsDirectly(t *testing.T) {
	s := start(t, authserver.Config{AutoApprove: true})
	reg := register(t, s, nativeClient())
	cfg := oauthConfig(s, reg, "mcp:read")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(cfg.AuthCodeURL("st", oauth2Param("code_challenge", strings.Repeat("a", 43)), oauth2Param("code_challenge_method", "S256")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirectURI+"?") || q.Get("code") == "" || q.Get("state") != "st" || q.Get("iss") != s.Issuer() {
		t.Errorf("%d %v", resp.StatusCode, loc)
	}
	// The op callback endpoint is closed: approval happens on /login only.
	resp, err = client.Get(s.Issuer() + "/authorize/callback?id=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/authorize/callback: %d", resp.StatusCode)
	}
}

// prompt=none cannot be honoured when a page is needed: login_required,
// redirected with iss (OpenID Connect Core §3.1.2.6).
func TestConsent_PromptNone(t *testing.T) {
	s := start(t, authserver.Config{})
	reg := register(t, s, nativeClient())
	f := flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Prompt = "none"
	if _, _, err := f.Code(ctx(t)); retrieveCode(t, err) != "login_required" {
		t.Errorf("prompt=none: %v", err)
	}
	s = start(t, authserver.Config{AutoApprove: true})
	reg = register(t, s, nativeClient())
	f = flow(s, oauthConfig(s, reg, "mcp:read"))
	f.Prompt = "none"
	if _, err := f.Run(ctx(t)); err != nil {
		t.Errorf("prompt=none in headless mode: %v", err)
	}
}

// A consent form answers once: replaying the Approve POST mints no second code.
func TestConsent_AnsweredOnce(t *testing.T) {
	s := start(t, authserver.Config{})
	reg := register(t, s, nativeClient())
	cfg := oauthConfig(s, reg, "mcp:read")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b := &demotest.Browser{}
	if _, err := b.Authorize(ctx(t), cfg.AuthCodeURL("st", oauth2Param("code_challenge", strings.Repeat("a", 43)), oauth2Param("code_challenge_method", "S256"))); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"action": {"approve"}}
	for _, m := range []string{"id", "csrf"} {
		i := strings.Index(b.Pages[0], `name="`+m+`" value="`) + len(`name="`+m+`" value="`)
		form.Set(m, b.Pages[0][i:i+strings.IndexByte(b.Pages[0][i:], '"')])
	}
	resp, err := client.PostForm(s.Issuer()+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || s.Stats().ConsentApproved != 1 {
		t.Errorf("second approve: %d, approvals %d", resp.StatusCode, s.Stats().ConsentApproved)
	}
}
