package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli/browser"
	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// defaultLoginTimeout bounds a browser login.
const defaultLoginTimeout = 5 * time.Minute

type loginOptions struct {
	noBrowser bool
	port      int
	timeout   time.Duration
	force     bool
}

func (o *loginOptions) register(cmd *cobra.Command, timeout time.Duration) {
	fl := cmd.Flags()
	fl.BoolVar(&o.noBrowser, "no-browser", false, "print the login URL instead of opening a browser (for SSH sessions)")
	fl.IntVar(&o.port, "port", 0, "port of the loopback redirect listener on 127.0.0.1 (default: an ephemeral port)")
	fl.DurationVar(&o.timeout, "timeout", timeout, "give up when the login is not finished within this time")
}

func (o *loginOptions) clientOptions(narrate bool) clientOptions {
	return clientOptions{interactive: true, noBrowser: o.noBrowser, port: o.port, timeout: o.timeout, narrate: narrate}
}

func newLoginCmd(f *Factory) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login <server-url>",
		Short: "Log in to an MCP server with your browser",
		Long: `Log in to an MCP server: find its authorization server, register this
client if needed, and authorize in your browser. The browser comes back to a
listener on 127.0.0.1 (an ephemeral port unless --port), and the tokens go
to the credential store.

The login URL is printed too, for a session without a browser, such as
over SSH: the browser must reach 127.0.0.1 on this machine, so pick a port
and forward it (ssh -L 8765:127.0.0.1:8765 host), then run
mcpauth login --no-browser --port 8765 URL and open the printed URL locally.

Credentials still valid are reused; --force logs in anyway.`,
		Example: `  mcpauth login https://mcp.example.com/mcp
  mcpauth login --no-browser --port 8765 https://mcp.example.com/mcp`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runLogin(cmd.Context(), serverURL, o)
		},
	}
	o.register(cmd, defaultLoginTimeout)
	cmd.Flags().BoolVar(&o.force, "force", false, "log in even when stored credentials are still valid")
	return cmd
}

func (f *Factory) runLogin(ctx context.Context, serverURL string, o loginOptions) error {
	if o.port < 0 || o.port > 65535 {
		return &usageError{err: fmt.Errorf("--port %d is not a port", o.port), cmd: "mcpauth login"}
	}
	c, err := f.newAuthClient(ctx, serverURL, o.clientOptions(true))
	if err != nil {
		return err
	}
	ios, cs := f.IOStreams, f.IOStreams.errColors()
	if !o.force {
		if tok, err := c.transport().Token(ctx); err == nil {
			rec := c.record(ctx, tok.Issuer)
			ios.Errf("%s Already logged in to %s", cs.Green("✓"), serverURL)
			f.describeRecord(rec)
			ios.Errf("To log in again anyway, run:  mcpauth login --force %s", serverURL)
			return nil
		}
	}
	tok, byOther, err := c.login(ctx)
	if err != nil {
		return loginFailure(err, o.timeout)
	}
	if byOther {
		ios.Errf("%s Logged in to %s by another mcpauth process", cs.Green("✓"), serverURL)
	} else {
		ios.Errf("%s Logged in to %s", cs.Green("✓"), serverURL)
	}
	f.describeRecord(c.record(ctx, tok.Issuer))
	return nil
}

// login runs a browser login and returns the new token. When another
// mcpauth process was logging in to the same server meanwhile, it uses
// that login's result (byOther) if it left valid credentials, and else
// logs in itself.
func (c *authClient) login(ctx context.Context) (tok *token.Token, byOther bool, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		if _, err = c.transport().Login(ctx); err == nil {
			tok, err = c.transport().Token(ctx)
			return tok, false, err
		}
		if !errors.Is(err, errLoginElsewhere) {
			return nil, false, err
		}
		if tok, terr := c.renew(c.transport()).Token(ctx); terr == nil {
			return tok, true, nil
		}
	}
	return nil, false, err
}

// loginFailure explains a failed login.
func loginFailure(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the login was not finished within %s; run the command again (--timeout sets the limit): %w", timeout, err)
	}
	return fmt.Errorf("login failed: %w", err)
}

// record returns the stored record for the server at issuer, or nil.
func (c *authClient) record(ctx context.Context, issuer string) *store.Record {
	rec, err := c.store.Load(ctx, store.Key{Resource: c.serverURL, Issuer: issuer})
	if err != nil {
		return nil
	}
	return rec
}

// describeRecord prints what is held for a server, never a token.
func (f *Factory) describeRecord(rec *store.Record) {
	if rec == nil {
		return
	}
	st := describe(rec, time.Now())
	ios := f.IOStreams
	ios.Errf("  Authorization server: %s", st.Issuer)
	if st.ClientID != "" {
		ios.Errf("  Client:               %s (%s)", st.ClientID, st.Registration)
	}
	ios.Errf("  Scopes granted:       %s", orNone(strings.Join(st.Scopes, " ")))
	ios.Errf("  Access token:         %s", st.expiryText())
	ios.Errf("  Refresh token:        %s", yesNo(st.RefreshToken))
}

// narrator prints the steps of an authorization to stderr.
func (f *Factory) narrator() func(mcpauth.Event) {
	cs := f.IOStreams.errColors()
	return func(e mcpauth.Event) {
		if e.Message == "" {
			return
		}
		f.IOStreams.Errf("%s %s", cs.Gray("•"), e.Message)
	}
}

// errLoginElsewhere means another mcpauth process was logging in to the
// same server, and has finished: the store may now hold its credentials.
var errLoginElsewhere = errors.New("another mcpauth process was logging in to this server and has finished")

// loginStep is the browser login, coordinated between processes: it holds
// an flock on a per-server "login in progress" file in the store directory
// for the length of a login. A second process (two proxies for one server)
// that finds the lock taken waits for it instead of starting a second
// login, then returns errLoginElsewhere so that its caller reads the store
// again. Callback ports are ephemeral, so two listeners never collide.
type loginStep struct {
	inner    authorize.Step
	lockPath string
	timeout  time.Duration
	poll     time.Duration
	ios      *IOStreams
	server   string

	pending atomic.Int32 // logins running or awaited in this process
}

func (f *Factory) newLoginStep(storeDir, serverURL string, o clientOptions) (*loginStep, error) {
	if o.timeout <= 0 {
		o.timeout = defaultLoginTimeout
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", storeDir, err)
	}
	sum := sha256.Sum256([]byte(serverURL))
	s := &loginStep{
		lockPath: filepath.Join(storeDir, "login-"+hex.EncodeToString(sum[:8])+".lock"),
		timeout:  o.timeout,
		poll:     f.LoginPoll,
		ios:      f.IOStreams,
		server:   serverURL,
	}
	if s.poll <= 0 {
		s.poll = 250 * time.Millisecond
	}
	s.inner = &authorize.Loopback{Open: f.opener(serverURL, o), Port: o.port, Timeout: o.timeout}
	return s, nil
}

// Pending reports whether a login is running or awaited.
func (s *loginStep) Pending() bool { return s != nil && s.pending.Load() > 0 }

// Start implements authorize.Step.
func (s *loginStep) Start(ctx context.Context, preferred string) (authorize.Session, error) {
	s.pending.Add(1)
	done := sync.OnceFunc(func() { s.pending.Add(-1) })
	lock := flock.New(s.lockPath, flock.SetPermissions(0o600))
	ok, err := lock.TryLock()
	if err != nil {
		done()
		return nil, fmt.Errorf("taking the login lock %s: %w", s.lockPath, err)
	}
	if !ok {
		defer done()
		return nil, s.awaitOther(ctx, lock)
	}
	sess, err := s.inner.Start(ctx, preferred)
	if err != nil {
		_ = lock.Unlock()
		done()
		return nil, err
	}
	return &lockedSession{Session: sess, release: sync.OnceFunc(func() { _ = lock.Unlock(); done() })}, nil
}

// awaitOther waits until the process holding the login lock releases it.
func (s *loginStep) awaitOther(ctx context.Context, lock *flock.Flock) error {
	s.ios.Errf("mcpauth: another mcpauth process is logging in to %s; waiting for it to finish (up to %s)", s.server, s.timeout)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the login another mcpauth process started for %s did not finish within %s: %w", s.server, s.timeout, ctx.Err())
			}
			return ctx.Err()
		case <-tick.C:
			ok, err := lock.TryLock()
			if err != nil {
				return fmt.Errorf("checking the login lock %s: %w", s.lockPath, err)
			}
			if ok {
				_ = lock.Unlock()
				return errLoginElsewhere
			}
		}
	}
}

type lockedSession struct {
	authorize.Session
	release func()
}

func (s *lockedSession) Close() error {
	err := s.Session.Close()
	s.release()
	return err
}

// opener returns the Loopback's Open: it prints the URL (so a login works
// where no browser opens), then opens the browser unless --no-browser.
func (f *Factory) opener(serverURL string, o clientOptions) func(ctx context.Context, url string) error {
	ios := f.IOStreams
	return func(ctx context.Context, authURL string) error {
		// The Loopback has checked the URL already (URL-1); check again,
		// as nothing but http(s) may ever reach a browser.
		if _, err := urlcheck.HTTPSOrLoopback("authorization URL", authURL); err != nil {
			return err
		}
		ios.Errf("To log in to %s, open this URL in a browser:\n\n    %s\n", serverURL, authURL)
		wait := fmt.Sprintf("Waiting for the login to finish (up to %s; Ctrl-C to cancel)...", o.timeout)
		if o.background {
			wait = fmt.Sprintf("Waiting for the login to finish (up to %s).", o.timeout)
		}
		if o.noBrowser {
			ios.Errf("%s", wait)
			return nil
		}
		open := f.OpenURL
		if open == nil {
			open = f.systemBrowser
		}
		if err := open(ctx, authURL); err != nil {
			if ctx.Err() != nil {
				return nil // the login ended meanwhile
			}
			ios.Errf("Could not open a browser (%s); open the URL above yourself.\n%s", redactText(err.Error()), wait)
			return nil
		}
		ios.Errf("Opened your browser. %s", wait)
		return nil
	}
}

// browserMu guards github.com/cli/browser's package-level output streams.
var browserMu sync.Mutex

// systemBrowser opens url with $BROWSER when set (run directly, never
// through a shell, the URL one argument), else with the platform's opener
// through github.com/cli/browser. Nothing it runs may write to stdout,
// which belongs to the command's result.
func (f *Factory) systemBrowser(_ context.Context, url string) error {
	if b := strings.TrimSpace(f.getenv("BROWSER")); b != "" {
		return runBrowserCommand(b, url, f.lockedErrOut())
	}
	browserMu.Lock()
	defer browserMu.Unlock()
	browser.Stdout, browser.Stderr = f.lockedErrOut(), f.lockedErrOut()
	return browser.OpenURL(url)
}

// runBrowserCommand runs the first command of a $BROWSER list ("a:b"):
// words split on spaces, "%s" replaced by the URL, else the URL appended.
// It returns once the command has started; a browser may run for long.
func runBrowserCommand(spec, url string, errOut io.Writer) error {
	first, _, _ := strings.Cut(spec, ":")
	words := strings.Fields(first)
	if len(words) == 0 {
		return errors.New("$BROWSER is empty")
	}
	args, replaced := make([]string, 0, len(words)), false
	for _, w := range words[1:] {
		if strings.Contains(w, "%s") {
			w, replaced = strings.ReplaceAll(w, "%s", url), true
		}
		args = append(args, w)
	}
	if !replaced {
		args = append(args, url)
	}
	cmd := exec.Command(words[0], args...)
	cmd.Stdout, cmd.Stderr = errOut, errOut
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running $BROWSER: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

func kindText(k registration.Kind) string {
	switch k {
	case registration.PreRegistered:
		return "pre-registered"
	case registration.MetadataDocument:
		return "CIMD"
	case registration.Dynamic:
		return "DCR"
	}
	return string(k)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
