package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// findChromium returns the Chromium to drive: $MCPAUTH_CHROMIUM, else the
// first of the usual names on PATH (scripts/ensure-chromium.sh installs
// Debian's chromium).
func findChromium() string {
	if p := os.Getenv("MCPAUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactsDir is $ARTIFACTS, else a temporary directory.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// headlessChromium starts a headless Chromium with a fresh profile that
// resolves no host name (tests talk to 127.0.0.1 only).
func headlessChromium(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		if os.Getenv("MCPAUTH_REQUIRE_BROWSER") == "1" {
			t.Fatal("no chromium found and MCPAUTH_REQUIRE_BROWSER=1; run scripts/ensure-chromium.sh")
		}
		t.Skip("no chromium found; run scripts/ensure-chromium.sh (MCPAUTH_REQUIRE_BROWSER=1 makes this a failure)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if _, err := chromedp.Run(bctx, chromedp.Title()); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return bctx
}

// End to end in a real browser: `mcpauth login` against the demo
// authorization server's real consent page (no auto-approval). Chromium
// opens the URL mcpauth hands its browser hook, the test clicks Approve,
// the browser lands on mcpauth's loopback result page, and the login
// completes with a refresh token. Screenshots of the consent and result
// pages are kept as artifacts.
func TestBrowserLogin(t *testing.T) {
	bctx := headlessChromium(t)
	d := startDemo(t, authserver.Config{})
	urls := make(chan string, 1)
	f, _, errOut := d.factory(runOpts{open: func(_ context.Context, u string) error { urls <- u; return nil }})
	done := make(chan int, 1)
	go func() { done <- Execute(testCtx(t, 2*time.Minute), f, []string{"--store", "file", "login", d.url}) }()

	var authURL string
	select {
	case authURL = <-urls:
	case code := <-done:
		t.Fatalf("login ended (%d) before opening the browser: %s", code, errOut)
	case <-time.After(30 * time.Second):
		t.Fatalf("login never opened the browser: %s", errOut)
	}

	var consentTitle, consentText, resultTitle, resultText, location string
	var consentShot, resultShot []byte
	err := chromedp.Do(bctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS("button.approve")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			if consentTitle, err = chromedp.Title()(ctx, tg); err != nil {
				return err
			}
			if consentText, err = chromedp.Text(chromedp.CSS("body"))(ctx, tg); err != nil {
				return err
			}
			consentShot, err = chromedp.FullScreenshot(100)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS("button.approve")),
		chromedp.WaitVisible(chromedp.CSS("h1.ok")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			if resultTitle, err = chromedp.Title()(ctx, tg); err != nil {
				return err
			}
			if resultText, err = chromedp.Text(chromedp.CSS("body"))(ctx, tg); err != nil {
				return err
			}
			if location, err = chromedp.Location()(ctx, tg); err != nil {
				return err
			}
			resultShot, err = chromedp.FullScreenshot(100)(ctx, tg)
			return err
		}),
	)
	dir := artifactsDir(t)
	for name, shot := range map[string][]byte{"browser-login-consent.png": consentShot, "browser-login-result.png": resultShot} {
		if len(shot) > 0 {
			p := filepath.Join(dir, name)
			if werr := os.WriteFile(p, shot, 0o644); werr != nil {
				t.Error(werr)
			}
			t.Logf("screenshot: %s", p)
		}
	}
	if err != nil {
		t.Fatalf("driving chromium: %v\nmcpauth stderr:\n%s", err, errOut)
	}

	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("login exit %d: %s", code, errOut)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("login did not finish after the browser came back")
	}
	t.Logf("consent page %q:\n%s", consentTitle, consentText)
	if !strings.Contains(consentText, "mcpauth") || !strings.Contains(consentText, "offline_access") || !strings.Contains(consentText, d.url) {
		t.Errorf("the consent page does not name the client, offline_access and the resource")
	}
	if resultTitle != "Authorized" || !strings.Contains(resultText, "You can close this window") {
		t.Errorf("result page %q: %q", resultTitle, resultText)
	}
	if !strings.HasPrefix(location, "http://127.0.0.1:") || !strings.Contains(location, "/callback?") {
		t.Errorf("the browser ended at %s", location)
	}
	if st := d.as.Stats(); st.ConsentApproved != 1 || st.RefreshTokensIssued != 1 {
		t.Errorf("authorization server stats: %+v", st)
	}
	r := d.run(t, "status", "--json", d.url)
	if !strings.Contains(r.out, `"refresh_token": true`) || !strings.Contains(r.out, `"state": "valid"`) {
		t.Errorf("status after the browser login: %s", r.out)
	}
	assertNoSecrets(t, "login output", errOut.String(), d.secrets(t))
}
