package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// buildDir holds binaries built for the process tests; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Map // package path → *buildResult
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// binary builds a main package of this module once per test run.
func binary(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(pkg, &buildResult{})
	br := v.(*buildResult)
	br.once.Do(func() {
		if buildDir == "" {
			if buildDir, br.err = os.MkdirTemp("", "mcpauth-bin-"); br.err != nil {
				return
			}
		}
		br.path = filepath.Join(buildDir, filepath.Base(pkg))
		out, err := exec.Command("go", "build", "-o", br.path, pkg).CombinedOutput()
		if err != nil {
			br.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if br.err != nil {
		t.Fatal(br.err)
	}
	return br.path
}

const (
	mcpauthPkg  = "github.com/mcpauth/mcpauth/cmd/mcpauth"
	directPkg   = "github.com/mcpauth/mcpauth/internal/cli/testdata/directclient"
	floorPkg    = "github.com/mcpauth/mcpauth/internal/cli/testdata/floorproxy"
	benchProtov = "2025-11-25"
)

// proxyCmd is `mcpauth proxy URL` as a process, with the demo's file store.
func (d *demo) proxyCmd(t testing.TB, stderr *bytes.Buffer) *exec.Cmd {
	cmd := exec.Command(binary(t, mcpauthPkg), "--store", "file", "proxy", d.url)
	cmd.Env = append(os.Environ(), "MCPAUTH_HOME="+d.home, "BROWSER=true", "NO_COLOR=1")
	cmd.Stderr = stderr
	return cmd
}

// The built binary as an MCP client would run it: go-sdk's CommandTransport
// starts `mcpauth proxy`, which uses the stored credentials; the client
// lists tools, calls one, receives the server's notification, and the
// process exits 0 when the client closes its stdin.
func TestProxyProcess(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	if r := d.run(t, "login", d.url); r.code != 0 {
		t.Fatal("login failed")
	}
	var stderr bytes.Buffer
	cmd := d.proxyCmd(t, &stderr)
	var progress atomic.Int32
	c := mcp.NewClient(&mcp.Implementation{Name: "process-test", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
	})
	ctx := testCtx(t, time.Minute)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 3 {
		t.Fatalf("tools/list: %v", err)
	}
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "from a process"}}
	params.SetProgressToken(7)
	res, err := cs.CallTool(ctx, params)
	if err != nil || res.Content[0].(*mcp.TextContent).Text != "from a process" {
		t.Fatalf("echo: %v", err)
	}
	if !eventually(func() bool { return progress.Load() == 1 }) {
		t.Errorf("progress notifications = %d", progress.Load())
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("proxy exit: %v\n%s", cmd.ProcessState, stderr.String())
	}
	if d.as.Stats().AuthorizationRequests != 1 {
		t.Error("the proxy did not reuse the stored credentials")
	}
	assertNoSecrets(t, "proxy stderr", stderr.String(), d.secrets(t))
	t.Logf("proxy stderr:\n%s", stderr.String())
}

// benchEnv is a logged-in demo for the benchmarks.
func benchEnv(b *testing.B) *demo {
	b.Helper()
	binary(b, mcpauthPkg) // built before any timing
	binary(b, directPkg)
	d := startDemo(b, authserver.Config{AutoApprove: true})
	if r := d.run(b, "login", d.url); r.code != 0 {
		b.Fatal("login failed")
	}
	return d
}

// directSession is go-sdk's own Streamable HTTP client, through an
// mcpauth transport on the same store: the baseline.
func (d *demo) directSession(b testing.TB) *mcp.ClientSession {
	b.Helper()
	f, _, _ := d.factory(runOpts{})
	f.opts.store = "file"
	ctx := context.Background()
	ac, err := f.newAuthClient(ctx, d.url, clientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "direct", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: d.url, HTTPClient: ac.httpClient()}, &mcp.ClientSessionOptions{ProtocolVersion: benchProtov})
	if err != nil {
		b.Fatal(err)
	}
	return cs
}

// proxySession is the same client through `mcpauth proxy` as a process.
func (d *demo) proxySession(b testing.TB, stderr *bytes.Buffer) (*mcp.ClientSession, *exec.Cmd) {
	b.Helper()
	cmd := d.proxyCmd(b, stderr)
	c := mcp.NewClient(&mcp.Implementation{Name: "via-proxy", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: benchProtov})
	if err != nil {
		b.Fatalf("%v\n%s", err, stderr)
	}
	return cs, cmd
}

func echo(b *testing.B, cs *mcp.ClientSession) {
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
	if err != nil || res.IsError {
		b.Fatalf("echo: %v", err)
	}
}

// BenchmarkProxyCall: the latency of one tools/call through the proxy
// process, and directly over HTTP with go-sdk's client. The two sessions
// take turns within one loop, so that a change in the machine's load
// weighs on both alike; ns/op is one call of each, and the metrics give
// each path's mean and their ratio. The demo servers run in this process.
func BenchmarkProxyCall(b *testing.B) {
	d := benchEnv(b)
	compareCalls(b, d, d.proxyOnly)
}

// BenchmarkProxyCallServerProcess is BenchmarkProxyCall with the demo
// servers in a process of their own (`mcpauth demo --serve`), as a remote
// server is: the direct client then crosses a process boundary too, as it
// does in real use.
func BenchmarkProxyCallServerProcess(b *testing.B) {
	d := serverProcess(b)
	compareCalls(b, d, d.proxyOnly)
}

// BenchmarkProxyCallFloor is BenchmarkProxyCall with testdata/floorproxy
// in place of the proxy: the least any separate process can add, the
// floor under the proxy's figure.
func BenchmarkProxyCallFloor(b *testing.B) {
	d := benchEnv(b)
	compareCalls(b, d, d.floorSession)
}

// compareCalls times echo calls through the session via gives and
// directly, taking turns.
func compareCalls(b *testing.B, d *demo, via func(testing.TB) *mcp.ClientSession) {
	proxy := via(b)
	defer proxy.Close()
	direct := d.directSession(b)
	defer direct.Close()
	echo(b, proxy)
	echo(b, direct)
	var viaProxy, viaHTTP time.Duration
	n := 0
	for b.Loop() {
		first, second := proxy, direct
		if n%2 == 1 {
			first, second = direct, proxy
		}
		t0 := time.Now()
		echo(b, first)
		t1 := time.Now()
		echo(b, second)
		t2 := time.Now()
		if first == proxy {
			viaProxy, viaHTTP = viaProxy+t1.Sub(t0), viaHTTP+t2.Sub(t1)
		} else {
			viaHTTP, viaProxy = viaHTTP+t1.Sub(t0), viaProxy+t2.Sub(t1)
		}
		n++
	}
	b.ReportMetric(float64(viaProxy.Nanoseconds())/float64(n), "proxy-ns/call")
	b.ReportMetric(float64(viaHTTP.Nanoseconds())/float64(n), "direct-ns/call")
	b.ReportMetric(float64(viaProxy)/float64(viaHTTP), "proxy/direct")
}

// proxyOnly is proxySession for compareCalls.
func (d *demo) proxyOnly(t testing.TB) *mcp.ClientSession {
	var stderr bytes.Buffer
	cs, _ := d.proxySession(t, &stderr)
	return cs
}

// floorSession is a go-sdk client over testdata/floorproxy, with the
// demo's current access token.
func (d *demo) floorSession(t testing.TB) *mcp.ClientSession {
	t.Helper()
	r := d.run(t, "token", d.url)
	if r.code != 0 {
		t.Fatal("mcpauth token failed")
	}
	cmd := exec.Command(binary(t, floorPkg), d.url)
	cmd.Env = append(os.Environ(), "MCPAUTH_FLOOR_TOKEN="+strings.TrimSpace(r.out))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "via-floor", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: benchProtov})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return cs
}

// serverProcess starts `mcpauth demo --serve --auto-approve` and logs in
// to its MCP server.
func serverProcess(b *testing.B) *demo {
	b.Helper()
	cmd := exec.Command(binary(b, mcpauthPkg), "demo", "--serve", "--auto-approve")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	d := &demo{home: privateDir(b)}
	sc := bufio.NewScanner(out)
	for d.url == "" && sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "MCP server:"); ok {
			d.url = strings.TrimSpace(u)
		}
	}
	if d.url == "" {
		b.Fatal("mcpauth demo --serve printed no MCP server URL")
	}
	go io.Copy(io.Discard, out)
	if r := d.run(b, "login", d.url); r.code != 0 {
		b.Fatal("login failed")
	}
	return d
}

// BenchmarkProxyColdStart: from nothing to the initialize response, with
// stored credentials: starting the proxy process and initializing through
// it, against initializing go-sdk's HTTP client in this process.
func BenchmarkProxyColdStart(b *testing.B) {
	d := benchEnv(b)
	b.Run("proxy", func(b *testing.B) {
		for b.Loop() {
			var stderr bytes.Buffer
			cs, _ := d.proxySession(b, &stderr)
			b.StopTimer()
			cs.Close()
			b.StartTimer()
		}
	})
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			cs := d.directSession(b)
			b.StopTimer()
			cs.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkProxyRequests counts the HTTP requests the servers see from
// the start to the first tools/call response, with stored credentials,
// on the 2025-11-25 protocol (initialize, initialized, then the call).
func BenchmarkProxyRequests(b *testing.B) {
	d := benchEnv(b)
	count := func(b *testing.B, session func() (*mcp.ClientSession, func())) {
		var mcpReqs, asReqs int
		for b.Loop() {
			m0, a0 := d.mcp.Stats(), d.as.Stats()
			cs, done := session()
			echo(b, cs)
			m1, a1 := d.mcp.Stats(), d.as.Stats()
			// Counted when the server let the tools/call through: a
			// request the proxy sends once it has the answer (the GET
			// stream) is not counted, however soon it follows.
			mcpReqs = max(mcpReqs, m1.RequestsAtToolCall+m1.PRMRequests-m0.Requests-m0.PRMRequests)
			asReqs = max(asReqs, tokenRequests(a1)-tokenRequests(a0)+a1.AuthorizationRequests-a0.AuthorizationRequests)
			b.StopTimer()
			cs.Close()
			done()
			b.StartTimer()
		}
		// The most any iteration made.
		b.ReportMetric(float64(mcpReqs), "mcp-requests")
		b.ReportMetric(float64(asReqs), "as-requests")
	}
	b.Run("proxy", func(b *testing.B) {
		count(b, func() (*mcp.ClientSession, func()) {
			var stderr bytes.Buffer
			cs, _ := d.proxySession(b, &stderr)
			return cs, func() {}
		})
	})
	b.Run("direct", func(b *testing.B) {
		count(b, func() (*mcp.ClientSession, func()) { return d.directSession(b), func() {} })
	})
}

func tokenRequests(s authserver.Stats) int {
	n := 0
	for _, v := range s.TokenRequests {
		n += v
	}
	return n
}

// BenchmarkProxyPeakRSS: the peak resident set of the proxy process over a
// session of 200 calls, against a process that makes the same calls with
// go-sdk's HTTP client directly (testdata/directclient).
func BenchmarkProxyPeakRSS(b *testing.B) {
	d := benchEnv(b)
	const calls = 200
	b.Run("proxy", func(b *testing.B) {
		var rss int64
		for b.Loop() {
			var stderr bytes.Buffer
			cs, cmd := d.proxySession(b, &stderr)
			for range calls {
				echo(b, cs)
			}
			rss = peakRSS(b, cmd.Process.Pid)
			cs.Close()
		}
		b.ReportMetric(float64(rss), "peak-RSS-KiB")
	})
	b.Run("direct", func(b *testing.B) {
		var rss int64
		bin := binary(b, directPkg)
		for b.Loop() {
			cmd := exec.Command(bin, d.url, d.home, fmt.Sprint(calls))
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			// It prints "done" after its calls and waits for stdin to close.
			if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "done" {
				cmd.Process.Kill()
				cmd.Wait()
				b.Fatalf("directclient said %q\n%s", line, stderr.String())
			}
			rss = peakRSS(b, cmd.Process.Pid)
			in.Close()
			if err := cmd.Wait(); err != nil {
				b.Fatalf("directclient: %v\n%s", err, stderr.String())
			}
		}
		b.ReportMetric(float64(rss), "peak-RSS-KiB")
	})
}
