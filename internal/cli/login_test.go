package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// The whole life of a login, with an auto-approving authorization server:
// login, status (text and JSON), token, login again (reused), logout.
// Tokens appear only on token's stdout (TOK-3, REF-1).
func TestLoginStatusTokenLogout(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})

	r := d.run(t, "login", d.url)
	if r.code != 0 {
		t.Fatalf("login exit %d", r.code)
	}
	if r.out != "" {
		t.Errorf("login wrote to stdout: %q", r.out)
	}
	for _, want := range []string{"Logged in to " + d.url, d.as.Issuer(), "DCR", "mcp:read", "Refresh token:        yes"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("login output lacks %q", want)
		}
	}
	secrets := d.secrets(t)
	if len(secrets) < 2 {
		t.Fatalf("expected an access and a refresh token in the store, got %d secrets", len(secrets))
	}
	assertNoSecrets(t, "login", r.out+r.err, secrets)

	// status, text
	r = d.run(t, "status")
	if r.code != 0 {
		t.Fatalf("status exit %d", r.code)
	}
	for _, want := range []string{d.url, "Authorization server: " + d.as.Issuer(), "Registration:         DCR", "offline_access", "valid, expires in", "Refresh token:        yes"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	assertNoSecrets(t, "status", r.out+r.err, secrets)

	// status --json, for one server
	r = d.run(t, "status", "--json", d.url)
	var entries []map[string]any
	if err := json.Unmarshal([]byte(r.out), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("status --json: %v, %d entries", err, len(entries))
	}
	e := entries[0]
	if e["server"] != d.url || e["issuer"] != d.as.Issuer() || e["registration"] != "DCR" || e["refresh_token"] != true || e["state"] != "valid" {
		t.Errorf("status --json entry = %v", e)
	}
	assertNoSecrets(t, "status --json", r.out, secrets)

	// token: the access token and a newline, nothing else
	r = d.run(t, "token", d.url)
	if r.code != 0 || r.err != "" {
		t.Fatalf("token exit %d, stderr %q", r.code, r.err)
	}
	tok := strings.TrimSuffix(r.out, "\n")
	if tok == "" || strings.ContainsAny(tok, " \n") || tok+"\n" != r.out {
		t.Fatalf("token stdout = %q", r.out)
	}
	if tok != secrets[0] {
		t.Errorf("token printed is not the stored access token")
	}
	// The token works: curl -H "Authorization: Bearer $(mcpauth token URL)".
	req, _ := http.NewRequest(http.MethodPost, d.url, strings.NewReader(initializeBody))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the printed token was refused: %d", resp.StatusCode)
	}

	// login again: reused, no new authorization
	before := d.as.Stats().AuthorizationRequests
	r = d.run(t, "login", d.url)
	if r.code != 0 || !strings.Contains(r.err, "Already logged in") || !strings.Contains(r.err, "--force") {
		t.Errorf("second login: exit %d, %q", r.code, r.err)
	}
	if n := d.as.Stats().AuthorizationRequests; n != before {
		t.Errorf("second login sent %d authorization requests", n-before)
	}
	// --force logs in anyway, reusing the registration
	regs := d.as.Stats().Registrations
	r = d.run(t, "login", "--force", d.url)
	if r.code != 0 || !strings.Contains(r.err, "Logged in to") {
		t.Errorf("login --force: exit %d", r.code)
	}
	if d.as.Stats().AuthorizationRequests != before+1 {
		t.Errorf("login --force did not authorize")
	}
	if d.as.Stats().Registrations != regs {
		t.Errorf("login --force registered a new client")
	}

	// logout revokes and deletes
	r = d.run(t, "logout", d.url)
	if r.code != 0 || !strings.Contains(r.err, "Revoked the tokens at "+d.as.Issuer()) || !strings.Contains(r.err, "Logged out") {
		t.Fatalf("logout: exit %d %q", r.code, r.err)
	}
	if recs := d.records(t); len(recs) != 0 {
		t.Errorf("store still holds %d records", len(recs))
	}
	r = d.run(t, "status")
	if r.code != ExitError || !strings.Contains(r.err, "Not logged in") {
		t.Errorf("status after logout: exit %d %q", r.code, r.err)
	}
	r = d.run(t, "status", "--json")
	if r.code != 0 || strings.TrimSpace(r.out) != "[]" {
		t.Errorf("status --json after logout: exit %d %q", r.code, r.out)
	}
	r = d.run(t, "logout", d.url)
	if r.code != ExitError || !strings.Contains(r.err, "Not logged in") {
		t.Errorf("second logout: exit %d %q", r.code, r.err)
	}
}

// token never logs in by itself: it exits 4 and names the command.
func TestTokenNeedsLogin(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	var opened atomic.Int32
	r := d.runWith(t, runOpts{open: func(context.Context, string) error { opened.Add(1); return nil }}, "token", d.url)
	if r.code != ExitLoginRequired {
		t.Errorf("exit %d, want %d", r.code, ExitLoginRequired)
	}
	if r.out != "" {
		t.Errorf("stdout = %q", r.out)
	}
	if !strings.Contains(r.err, "mcpauth login "+d.url) {
		t.Errorf("stderr does not name the command: %q", r.err)
	}
	if opened.Load() != 0 || d.as.Stats().AuthorizationRequests != 0 {
		t.Error("token started a login")
	}

	// --login does, and still prints only the token on stdout.
	r = d.run(t, "token", "--login", d.url)
	if r.code != 0 {
		t.Fatalf("token --login exit %d", r.code)
	}
	secrets := d.secrets(t)
	if r.out != secrets[0]+"\n" {
		t.Errorf("token --login stdout is not the token alone: %q", r.out)
	}
	assertNoSecrets(t, "token --login stderr", r.err, secrets)
}

// An expired access token is refreshed by token (SEP-2207 with the strict
// provider: offline_access with prompt=consent).
func TestTokenRefreshes(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true, AccessTokenLifetime: 2 * time.Second})
	if r := d.run(t, "login", d.url); r.code != 0 {
		t.Fatal("login failed")
	}
	first := d.secrets(t)[0]
	time.Sleep(2100 * time.Millisecond)
	r := d.run(t, "token", d.url)
	if r.code != 0 {
		t.Fatalf("token exit %d", r.code)
	}
	if got := strings.TrimSpace(r.out); got == first || got == "" {
		t.Error("token did not refresh the expired token")
	}
	if n := d.as.Stats().TokenRequests["refresh_token"]; n != 1 {
		t.Errorf("refresh requests = %d, want 1", n)
	}
	if n := d.as.Stats().AuthorizationRequests; n != 1 {
		t.Errorf("authorization requests = %d, want 1 (no new login)", n)
	}
}

// A login nobody finishes ends at --timeout, with a message.
func TestLoginTimeout(t *testing.T) {
	d := startDemo(t, authserver.Config{}) // consent page, nobody clicks
	start := time.Now()
	r := d.runWith(t, runOpts{open: func(context.Context, string) error { return nil }}, "login", "--timeout", "500ms", d.url)
	if r.code != ExitError || !strings.Contains(r.err, "not finished within 500ms") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the timeout did not end the login promptly")
	}
}

// Ctrl-C (the context main cancels on SIGINT) cancels a pending login.
func TestLoginCancelled(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	open := func(context.Context, string) error {
		time.AfterFunc(100*time.Millisecond, cancel)
		return nil
	}
	r := d.runWith(t, runOpts{open: open, ctx: ctx}, "login", d.url)
	if r.code != ExitCancelled || !strings.Contains(r.err, "cancelled") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

// --no-browser prints the URL and never opens a browser; a person who
// opens the printed URL finishes the login. The login goes through the
// real consent page.
func TestLoginNoBrowserConsent(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	var opened atomic.Int32
	f, _, errOut := d.factory(runOpts{open: func(context.Context, string) error { opened.Add(1); return nil }})
	done := make(chan int, 1)
	go func() {
		done <- Execute(testCtx(t, time.Minute), f, []string{"--store", "file", "login", "--no-browser", d.url})
	}()

	authURL := waitForURL(t, errOut)
	if err := consentOpener("approve")(testCtx(t, 30*time.Second), authURL); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("login exit %d: %s", code, errOut)
	}
	if opened.Load() != 0 {
		t.Error("--no-browser opened a browser")
	}
	if st := d.as.Stats(); st.ConsentApproved != 1 || st.RefreshTokensIssued != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A person who denies consent gets the server's answer.
func TestLoginDenied(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	r := d.runWith(t, runOpts{open: consentOpener("deny")}, "login", d.url)
	if r.code != ExitError || !strings.Contains(r.err, "access_denied") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

// waitForURL waits for the authorization URL a login prints.
func waitForURL(t testing.TB, errOut *SyncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(errOut.String(), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "http://") && strings.Contains(line, "/authorize?") {
				return line
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no authorization URL printed: %s", errOut)
	return ""
}

// URL-1: nothing but http(s) reaches the browser hook.
func TestOpenerRefusesOtherSchemes(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	var opened atomic.Int32
	f, _, errOut := d.factory(runOpts{open: func(context.Context, string) error { opened.Add(1); return nil }})
	open := f.opener(d.url, clientOptions{timeout: time.Second})
	for _, u := range []string{"javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi", "http://example.com/authorize", "ftp://127.0.0.1/x"} {
		if err := open(context.Background(), u); err == nil {
			t.Errorf("opener accepted %q", u)
		}
	}
	if opened.Load() != 0 {
		t.Errorf("the browser was opened %d times", opened.Load())
	}
	if strings.Contains(errOut.String(), "javascript") {
		t.Error("a refused URL was printed for the person to open")
	}
}

// $BROWSER is honoured, run without a shell, and never writes to stdout.
func TestBrowserEnv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the browser")
	}
	dir := t.TempDir()
	script := writeFile(t, dir, "browser.sh", "#!/bin/sh\necho \"opened $1\" > \""+filepath.Join(dir, "got")+"\"\necho noise\n")
	if err := os.Chmod(script, 0o700); err != nil {
		t.Fatal(err)
	}
	ios, out, errOut := Test("")
	ios.Getenv = func(k string) string {
		if k == "BROWSER" {
			return script
		}
		return ""
	}
	f := NewFactory(ios)
	if err := f.systemBrowser(context.Background(), "http://127.0.0.1:1/authorize?a=b;c"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for i := 0; i < 200; i++ {
		if got, _ = os.ReadFile(filepath.Join(dir, "got")); len(got) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.TrimSpace(string(got)) != "opened http://127.0.0.1:1/authorize?a=b;c" {
		t.Errorf("$BROWSER got %q", got)
	}
	time.Sleep(50 * time.Millisecond)
	if out.String() != "" {
		t.Errorf("the browser wrote to stdout: %q", out.String())
	}
	_ = errOut
}

// Usage mistakes exit 2 with a hint.
func TestUsageErrors(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	for _, args := range [][]string{
		{"login"},
		{"token", "a", "b"},
		{"login", "--bogus", d.url},
		{"login", "ftp://example.com/mcp"},
		{"login", "http://example.com/mcp"},
		{"--store", "nope", "status"},
		{"call", d.url},
		{"status", "--client-secret", "x"},
		{"bogus"},
	} {
		r := d.run(t, args...)
		if r.code != ExitUsage || !strings.Contains(r.err, "--help") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.err)
		}
	}
}

// A server that is down gives an error, not a hang.
func TestServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/mcp"
	srv.Close()
	d := &demo{home: privateDir(t)}
	r := d.run(t, "login", "--timeout", "5s", u)
	if r.code != ExitError || !strings.Contains(r.err, "login failed") {
		t.Errorf("exit %d, %q", r.code, r.err)
	}
}

// --port fixes the loopback listener's port (127.0.0.1 always).
func TestLoginPort(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := d.run(t, "login", "--port", fmt.Sprint(port), d.url)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	want := url.QueryEscape(fmt.Sprintf("http://127.0.0.1:%d/callback", port))
	if !strings.Contains(r.err, "redirect_uri="+want) {
		t.Errorf("the redirect URI does not use port %d", port)
	}
	if r := d.run(t, "login", "--port", "70000", d.url); r.code != ExitUsage {
		t.Errorf("--port 70000: exit %d", r.code)
	}
}
