package mcpauth_test

// Credential lifecycle measured against the demo OpenID provider (a real
// provider library, zitadel/oidc, that rotates refresh tokens and revokes
// the grant when a rotated one is replayed): one refresh however many
// goroutines or processes need it, crash safety, and the request counts of
// a restart.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
	"github.com/mcpauth/mcpauth/store"
)

// demo is a running pair of demo servers.
type demo struct {
	as *authserver.Server
	ms *mcpserver.Server
}

func startDemo(t testing.TB, cfg authserver.Config) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg.AutoApprove = true
	as, err := authserver.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	as.AddResource(ms.URL())
	t.Cleanup(func() { ms.Close(); as.Close() })
	return &demo{as: as, ms: ms}
}

// fakeClock is the client's clock; tests move it to expire tokens without
// waiting.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// countingTransport counts the HTTP requests a transport sends.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func headless() authorize.Step {
	return &authorize.Loopback{Open: authorize.HeadlessOpener(nil)}
}

func connect(t testing.TB, ctx context.Context, url string, tr *mcpauth.Transport) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "lifecycle-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: tr.Client()}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func whoami(ctx context.Context, cs *mcp.ClientSession) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil {
		return err
	}
	if res.IsError {
		return errors.New("whoami returned a tool error")
	}
	return nil
}

// TestRefresh_REF1_OneTokenRequestFor1000Callers: 1,000 goroutines share a
// transport whose access token has expired; exactly one refresh is made and
// every call succeeds.
func TestRefresh_REF1_OneTokenRequestFor1000Callers(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	clk := &fakeClock{}
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Step: headless(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, ctx, d.ms.URL(), tr)
	if err := whoami(ctx, cs); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	before := d.as.Stats().TokenRequests["refresh_token"]

	const callers = 1000
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() { errs <- whoami(ctx, cs) })
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	refreshes := d.as.Stats().TokenRequests["refresh_token"] - before
	t.Logf("%d callers with an expired token: %d refresh token requests, %d failed calls", callers, refreshes, failed)
	if refreshes != 1 || failed != 0 {
		t.Errorf("refreshes = %d, failed = %d; want 1 and 0", refreshes, failed)
	}
}

// TestRefresh_CrossProcess_8Processes20Expiries: 8 processes share a file
// store; at each of 20 expiries exactly one of them refreshes and the
// others use its token, so the rotating AS never sees a replayed refresh
// token.
func TestRefresh_CrossProcess_8Processes20Expiries(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 160 processes")
	}
	d := startDemo(t, authserver.Config{StrictRotation: true})
	dir := t.TempDir()
	login(t, d, dir)

	const procs, expiries = 8, 20
	for round := 1; round <= expiries; round++ {
		offset := time.Duration(round) * time.Hour
		var wg sync.WaitGroup
		errs := make(chan error, procs)
		for range procs {
			wg.Go(func() { errs <- runChild(t, "call", d.ms.URL(), dir, offset) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	st := d.as.Stats()
	t.Logf("%d processes × %d expiries: %d refresh requests, %d grants revoked for reuse, %d authorization requests",
		procs, expiries, st.TokenRequests["refresh_token"], st.GrantsRevokedForReuse, st.AuthorizationRequests)
	if st.TokenRequests["refresh_token"] != expiries || st.GrantsRevokedForReuse != 0 || st.AuthorizationRequests != 1 {
		t.Errorf("stats = %+v; want %d refreshes, no revocation, 1 authorization", st, expiries)
	}
}

// TestRefresh_CrashSafety_SIGKILL50: a process refreshing in a loop is
// killed with SIGKILL at random points, 50 times. Each time the store reads
// cleanly and holds a refresh token the AS accepts.
func TestRefresh_CrashSafety_SIGKILL50(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 50 processes")
	}
	d := startDemo(t, authserver.Config{})
	dir := t.TempDir()
	login(t, d, dir)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)

	offset := time.Duration(0)
	for i := range 50 {
		cmd := childCmd("refresh-loop", d.ms.URL(), dir, offset)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has loaded the store and starts refreshing.
		if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child said %q", i, line)
		}
		time.Sleep(time.Duration(rng.IntN(15_000)) * time.Microsecond) // fault injection, not a timing assertion
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		// The store must read cleanly and its refresh token must work:
		// a fresh transport far in the future refreshes with it.
		offset += 24 * time.Hour
		if err := runChild(t, "refresh-once", d.ms.URL(), dir, offset); err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
	}
	st := d.as.Stats()
	t.Logf("50 kills: %d refreshes, %d rotated tokens retried after a lost response, %d grants revoked", st.TokenRequests["refresh_token"], st.LostResponseRetries, st.GrantsRevokedForReuse)
	if st.GrantsRevokedForReuse != 0 || st.AuthorizationRequests != 1 {
		t.Errorf("stats = %+v; want no revoked grant and no new authorization", st)
	}
}

// TestRequestCounts_Restart measures the HTTP requests of a client that
// restarts with stored credentials (issue: warm start 1, expired token 2,
// second login 0 new registrations).
func TestRequestCounts_Restart(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	ctx := context.Background()
	dir := t.TempDir()
	login(t, d, dir)
	st, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	post := func(tr *mcpauth.Transport) int {
		body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
		req, _ := http.NewRequest(http.MethodPost, d.ms.URL(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := tr.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("warm start with a valid token", func(t *testing.T) {
		ct := &countingTransport{base: http.DefaultTransport}
		tr, _ := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: st, Base: ct})
		if code := post(tr); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		t.Logf("HTTP requests: %d", ct.n.Load())
		if ct.n.Load() != 1 {
			t.Errorf("requests = %d, want 1 (no discovery)", ct.n.Load())
		}
	})
	t.Run("expired access token, valid refresh token", func(t *testing.T) {
		ct := &countingTransport{base: http.DefaultTransport}
		clk := &fakeClock{}
		clk.Advance(time.Hour)
		tr, _ := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: st, Base: ct, Now: clk.Now})
		if code := post(tr); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		t.Logf("HTTP requests: %d", ct.n.Load())
		if ct.n.Load() != 2 {
			t.Errorf("requests = %d, want 2 (refresh, then the request)", ct.n.Load())
		}
	})
	t.Run("second login after a restart reuses the registration", func(t *testing.T) {
		before := d.as.Stats().Registrations
		tr, _ := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: st, Step: headless()})
		if _, err := tr.Login(ctx); err != nil {
			t.Fatal(err)
		}
		got := d.as.Stats().Registrations - before
		t.Logf("new registrations: %d", got)
		if got != 0 {
			t.Errorf("new registrations = %d, want 0", got)
		}
	})
}

// login authorizes once into the file store in dir.
func login(t testing.TB, d *demo, dir string) {
	t.Helper()
	st, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mcpauth.NewTransport(d.ms.URL(), mcpauth.Config{Store: st, Step: headless()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tr.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token: SEP-2207 augmentation failed")
	}
}

const childEnv = "MCPAUTH_LIFECYCLE_CHILD"

func childCmd(mode, url, dir string, offset time.Duration) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLifecycleChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "CHILD_URL="+url, "CHILD_DIR="+dir, "CHILD_OFFSET="+strconv.FormatInt(int64(offset), 10))
	return cmd
}

func runChild(t testing.TB, mode, url, dir string, offset time.Duration) error {
	out, err := childCmd(mode, url, dir, offset).CombinedOutput()
	if err != nil {
		return fmt.Errorf("child %s: %v\n%s", mode, err, out)
	}
	return nil
}

// TestLifecycleChild is the body of the processes the tests above start;
// run directly it does nothing.
func TestLifecycleChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("helper process")
	}
	offset, _ := strconv.ParseInt(os.Getenv("CHILD_OFFSET"), 10, 64)
	clk := &fakeClock{}
	clk.Advance(time.Duration(offset))
	st, err := store.NewFile(os.Getenv("CHILD_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	// No Step: a child that had to log in again fails.
	tr, err := mcpauth.NewTransport(os.Getenv("CHILD_URL"), mcpauth.Config{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	switch mode {
	case "call":
		if err := whoami(ctx, connect(t, ctx, os.Getenv("CHILD_URL"), tr)); err != nil {
			t.Fatal(err)
		}
	case "refresh-once":
		if _, err := tr.Token(ctx); err != nil {
			t.Fatal(err)
		}
	case "refresh-loop":
		fmt.Println("ready")
		for {
			clk.Advance(time.Hour)
			if _, err := tr.Token(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}
