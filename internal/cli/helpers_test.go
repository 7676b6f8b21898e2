package cli

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/demotest"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
	"github.com/mcpauth/mcpauth/store"
)

// demo is the demo authorization server and MCP server on 127.0.0.1, and a
// private mcpauth home directory.
type demo struct {
	as   *authserver.Server
	mcp  *mcpserver.Server
	home string
	url  string
}

// startDemo starts the demo pair. AutoApprove is the caller's choice.
func startDemo(t testing.TB, cfg authserver.Config) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	as, err := authserver.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	as.AddResource(ms.URL())
	t.Cleanup(func() { cancel(); ms.Close(); as.Close() })
	return &demo{as: as, mcp: ms, home: privateDir(t), url: ms.URL()}
}

// result is what one run of the command printed and returned.
type result struct {
	out, err string
	code     int
}

// runOpts adjust a run.
type runOpts struct {
	stdin string
	env   map[string]string
	// open replaces the browser; nil means authorize.HeadlessOpener, which
	// works with an auto-approving server.
	open func(ctx context.Context, url string) error
	ctx  context.Context
	// maxProcs records what the command would set GOMAXPROCS to.
	maxProcs func(int)
}

// factory returns a Factory over test streams, with the demo's home
// directory and the given browser hook.
func (d *demo) factory(o runOpts) (*Factory, *SyncBuffer, *SyncBuffer) {
	ios, out, errOut := Test(o.stdin)
	env := map[string]string{store.HomeEnv: d.home}
	for k, v := range o.env {
		env[k] = v
	}
	ios.Getenv = func(k string) string { return env[k] }
	f := NewFactory(ios)
	f.OpenURL = o.open
	if f.OpenURL == nil {
		f.OpenURL = authorize.HeadlessOpener(nil)
	}
	f.LoginPoll = 20 * time.Millisecond
	f.MaxProcs = o.maxProcs
	return f, out, errOut
}

// run runs mcpauth with args and the file store in the demo's home.
func (d *demo) run(t testing.TB, args ...string) result {
	t.Helper()
	return d.runWith(t, runOpts{}, args...)
}

func (d *demo) runWith(t testing.TB, o runOpts, args ...string) result {
	t.Helper()
	f, out, errOut := d.factory(o)
	ctx := o.ctx
	if ctx == nil {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ctx = c
	}
	code := Execute(ctx, f, append([]string{"--store", "file"}, args...))
	r := result{out: out.String(), err: errOut.String(), code: code}
	t.Logf("mcpauth %s → %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.out, r.err)
	return r
}

// records returns what the file store holds.
func (d *demo) records(t testing.TB) []*store.Record {
	t.Helper()
	st, err := store.NewFile(d.home)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// secrets returns every token and secret the store holds, to check that
// no output shows them.
func (d *demo) secrets(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, r := range d.records(t) {
		if r.Token != nil {
			out = append(out, r.Token.AccessToken)
			if r.Token.RefreshToken != "" {
				out = append(out, r.Token.RefreshToken)
			}
		}
		if r.Client != nil && r.Client.Secret != "" {
			out = append(out, r.Client.Secret)
		}
	}
	return out
}

// assertNoSecrets fails when any of secrets appears in text.
func assertNoSecrets(t testing.TB, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%d chars, starting %.6q)", where, len(s), s)
		}
	}
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// consentOpener returns a browser hook that goes through the demo's real
// consent page, pressing action, then follows the redirect to the
// loopback listener, as a person's browser does.
func consentOpener(action string) func(ctx context.Context, authURL string) error {
	return func(ctx context.Context, authURL string) error {
		b := demotest.Browser{Action: action}
		loc, err := b.Authorize(ctx, authURL)
		if err != nil {
			return err
		}
		return visit(ctx, loc)
	}
}

// visit GETs u, as the browser landing on the redirect URI.
func visit(ctx context.Context, u *url.URL) error {
	return authorize.HeadlessOpener(nil)(ctx, u.String())
}

// writeFile writes a file with mode 0600.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }

// privateDir is a temporary directory only its owner can open, as the
// credential store requires of a directory holding other files too.
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// eventually polls cond for up to five seconds: go-sdk runs notification
// handlers asynchronously, so one may run after the call's result.
func eventually(cond func() bool) bool {
	for i := 0; i < 500; i++ {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
