package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// runningProxy is `mcpauth proxy` running in this process over pipes.
type runningProxy struct {
	stdin  *io.PipeWriter // what the MCP client writes
	stdout *io.PipeReader // what it reads
	errOut *SyncBuffer
	done   chan int
	lines  chan string
}

// startProxy runs `mcpauth proxy URL` with args before the URL.
func (d *demo) startProxy(t *testing.T, o runOpts, args ...string) *runningProxy {
	t.Helper()
	f, _, errOut := d.factory(o)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	f.IOStreams.In, f.IOStreams.Out = inR, outW
	p := &runningProxy{stdin: inW, stdout: outR, errOut: errOut, done: make(chan int, 1)}
	ctx := o.ctx
	if ctx == nil {
		ctx = testCtx(t, 2*time.Minute)
	}
	go func() {
		code := Execute(ctx, f, append(append([]string{"--store", "file", "proxy"}, args...), d.url))
		outW.Close()
		inR.Close()
		p.done <- code
	}()
	t.Cleanup(func() {
		inW.Close()
		outR.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Error("the proxy did not exit")
		}
		t.Logf("proxy stderr:\n%s", errOut)
	})
	return p
}

// raw switches the proxy's stdout to line reading, for tests that speak
// JSON-RPC themselves.
func (p *runningProxy) raw() *runningProxy {
	p.lines = make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(p.stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p
}

func (p *runningProxy) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (p *runningProxy) recv(t *testing.T, timeout time.Duration) map[string]any {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatal("stdout closed")
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout carries a line that is not JSON: %q", line)
		}
		return m
	case <-time.After(timeout):
		t.Fatal("no message on stdout")
	}
	return nil
}

// exited waits for the proxy to exit and returns its code.
func (p *runningProxy) exited(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(within):
		t.Fatalf("the proxy did not exit within %s", within)
	}
	return -1
}

// client connects a go-sdk client to the proxy's stdio.
func (p *runningProxy) client(t *testing.T, opts *mcp.ClientOptions, sopts *mcp.ClientSessionOptions) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "proxy-test", Version: "1"}, opts)
	cs, err := c.Connect(testCtx(t, time.Minute), &mcp.IOTransport{Reader: p.stdout, Writer: p.stdin}, sopts)
	if err != nil {
		t.Fatalf("connecting through the proxy: %v\nproxy stderr:\n%s", err, p.errOut)
	}
	return cs
}

const initializeLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// A go-sdk stdio client through the proxy: it logs in (headless), lists
// tools, calls one, receives the server's progress notification, steps
// up for write-note, and the proxy exits when the client closes stdin.
func TestProxy(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("protocol "+version, func(t *testing.T) {
			d := startDemo(t, authserver.Config{AutoApprove: true})
			p := d.startProxy(t, runOpts{})
			var progress atomic.Int32
			cs := p.client(t, &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
			}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			ctx := testCtx(t, time.Minute)
			res, err := cs.ListTools(ctx, nil)
			if err != nil || len(res.Tools) != 3 {
				t.Fatalf("tools/list: %v %v", err, res)
			}
			params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "through the proxy"}}
			params.SetProgressToken("p1")
			call, err := cs.CallTool(ctx, params)
			if err != nil || call.IsError || call.Content[0].(*mcp.TextContent).Text != "through the proxy" {
				t.Fatalf("echo: %v %+v", err, call)
			}
			if !eventually(func() bool { return progress.Load() == 1 }) {
				t.Errorf("progress notifications = %d, want 1", progress.Load())
			}
			call, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "write-note", Arguments: map[string]any{"text": "n"}})
			if err != nil || call.IsError {
				t.Fatalf("write-note: %v %+v", err, call)
			}
			if n := d.as.Stats().AuthorizationRequests; n != 2 {
				t.Errorf("authorization requests = %d, want 2 (login, step-up)", n)
			}
			cs.Close()
			if code := p.exited(t, 5*time.Second); code != 0 {
				t.Errorf("exit %d", code)
			}
			assertNoSecrets(t, "proxy stderr", p.errOut.String(), d.secrets(t))
		})
	}
}

// The proxy runs on one P unless GOMAXPROCS says otherwise.
func TestProxyMaxProcs(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []int
	}{
		{"", []int{1}},
		{"4", nil},
	} {
		t.Run("GOMAXPROCS="+tc.env, func(t *testing.T) {
			d := &demo{home: privateDir(t), url: "http://127.0.0.1:9/mcp"}
			var got []int
			r := d.runWith(t, runOpts{env: map[string]string{"GOMAXPROCS": tc.env}, maxProcs: func(n int) { got = append(got, n) }}, "--store", "file", "proxy", d.url)
			if r.code != 0 || !slices.Equal(got, tc.want) {
				t.Errorf("exit %d, GOMAXPROCS set to %v, want %v", r.code, got, tc.want)
			}
		})
	}
}

// recordingServer is a go-sdk Streamable HTTP server with an echo tool
// that records when each request starts and ends, as "start POST
// tools/call" and "end POST tools/call".
func recordingServer(t *testing.T, opts *mcp.StreamableHTTPOptions) (url string, events func() []string) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "recording", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
	})
	var mu sync.Mutex
	var seen []string
	note := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, opts)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what := r.Method
		if r.Body != nil && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			var m struct {
				Method string `json:"method"`
			}
			_ = json.Unmarshal(body, &m)
			what += " " + m.Method
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		note("start " + what)
		h.ServeHTTP(w, r)
		if r.Method == http.MethodPost {
			// Recorded before net/http ends the response, so before the
			// client can see its end.
			note("end " + what)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/mcp", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// startsBefore lists the requests that started before the event end.
func startsBefore(events []string, end string) []string {
	var out []string
	for _, e := range events {
		if e == end {
			return out
		}
		if s, ok := strings.CutPrefix(e, "start "); ok {
			out = append(out, s)
		}
	}
	return nil
}

// The first tools/call on the 2025-11-25 protocol is answered after three
// HTTP requests: initialize, initialized, tools/call. The standalone GET
// stream opens once that answer is out, not before (#5: at most three
// requests to the first tools/call response).
func TestProxyRequestsToFirstCall(t *testing.T) {
	url, events := recordingServer(t, nil)
	d := &demo{home: privateDir(t), url: url}
	p := d.startProxy(t, runOpts{})
	cs := p.client(t, nil, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	defer cs.Close()
	echoFirst(t, cs)
	// The handler's end comes a moment after the answer the client has.
	eventually(func() bool { return slices.Contains(events(), "end POST tools/call") })
	want := []string{"POST initialize", "POST notifications/initialized", "POST tools/call"}
	if got := startsBefore(events(), "end POST tools/call"); !slices.Equal(got, want) {
		t.Errorf("requests started before the first tools/call answer = %q, want %q", got, want)
	}
	// The event stream opens right after, once.
	gets := func() int { return strings.Count(strings.Join(events(), "\n"), "start GET") }
	if !eventually(func() bool { return gets() == 1 }) {
		t.Errorf("GET streams after the first answer = %d, want 1\n%q", gets(), events())
	}
	time.Sleep(2 * listenDelay)
	if gets() != 1 {
		t.Errorf("GET streams a while later = %d, want 1", gets())
	}
}

// A client that sends nothing after the handshake still gets the event
// stream, listenDelay later.
func TestProxyListensWithoutRequests(t *testing.T) {
	url, events := recordingServer(t, nil)
	d := &demo{home: privateDir(t), url: url}
	p := d.startProxy(t, runOpts{})
	cs := p.client(t, nil, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	defer cs.Close()
	if !eventually(func() bool { return slices.Contains(events(), "start GET") }) {
		t.Errorf("no GET stream after an idle handshake: %q", events())
	}
}

// On the stateless 2026-07-28 protocol there is no handshake and no GET
// stream: server/discover, then tools/call.
func TestProxyRequestsToFirstCall2026(t *testing.T) {
	url, events := recordingServer(t, &mcp.StreamableHTTPOptions{Stateless: true})
	d := &demo{home: privateDir(t), url: url}
	p := d.startProxy(t, runOpts{})
	cs := p.client(t, nil, nil)
	defer cs.Close()
	echoFirst(t, cs)
	eventually(func() bool { return slices.Contains(events(), "end POST tools/call") })
	want := []string{"POST server/discover", "POST tools/call"}
	if got := startsBefore(events(), "end POST tools/call"); !slices.Equal(got, want) {
		t.Errorf("requests started before the first tools/call answer = %q, want %q", got, want)
	}
	time.Sleep(2 * listenDelay)
	if got := events(); slices.Contains(got, "start GET") {
		t.Errorf("a GET stream on the 2026-07-28 protocol: %q", got)
	}
}

func echoFirst(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	res, err := cs.CallTool(testCtx(t, 10*time.Second), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "first"}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "first" {
		t.Fatalf("echo: %v %v", err, res)
	}
}

// Messages the server sends on its own go through the standalone GET
// stream (protocol 2025-11-25): a tools/list_changed reaches the client.
func TestProxyServerInitiated(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "open", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "first"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	var gets atomic.Int32
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	d := &demo{home: privateDir(t), url: hs.URL + "/mcp"}
	p := d.startProxy(t, runOpts{})
	changed := make(chan struct{}, 4)
	cs := p.client(t, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	defer cs.Close()
	// Wait for the GET stream, then change the tools.
	for i := 0; gets.Load() == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if gets.Load() == 0 {
		t.Fatal("the proxy opened no GET stream")
	}
	time.Sleep(100 * time.Millisecond)
	mcp.AddTool(srv, &mcp.Tool{Name: "second"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return nil, nil, nil
	})
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("tools/list_changed did not reach the client")
	}
	res, err := cs.ListTools(testCtx(t, 10*time.Second), nil)
	if err != nil || len(res.Tools) != 2 {
		t.Errorf("tools/list after the change: %v %v", err, res)
	}
}

// The proxy exits when stdin closes, even while a login is pending
// (mcp-remote ignores it): the loopback listener closes, nothing hangs.
func TestProxyStdinClosesDuringLogin(t *testing.T) {
	d := startDemo(t, authserver.Config{}) // a consent page nobody answers
	opened := make(chan string, 1)
	p := d.startProxy(t, runOpts{open: func(_ context.Context, u string) error { opened <- u; return nil }}).raw()
	p.send(t, initializeLine)
	var authURL string
	select {
	case authURL = <-opened:
	case <-time.After(20 * time.Second):
		t.Fatalf("no login started: %s", p.errOut)
	}
	start := time.Now()
	p.stdin.Close()
	if code := p.exited(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the proxy took %s to exit", d)
	}
	if !strings.Contains(p.errOut.String(), "cancelling the login") {
		t.Errorf("stderr: %s", p.errOut)
	}
	// The redirect listener is gone.
	redirect := queryParam(t, authURL, "redirect_uri")
	if resp, err := http.Get(redirect); err == nil {
		resp.Body.Close()
		t.Errorf("the loopback listener still answers at %s", redirect)
	}
}

// A login nobody finishes (no browser) ends after --timeout: the request
// gets an error naming `mcpauth login URL`, and the proxy goes on.
func TestProxyLoginTimeout(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	p := d.startProxy(t, runOpts{open: func(context.Context, string) error { return fmt.Errorf("no browser here") }}, "--timeout", "300ms").raw()
	p.send(t, initializeLine)
	m := p.recv(t, 20*time.Second)
	e, _ := m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if m["id"] != float64(1) || !strings.Contains(msg, "mcpauth login "+d.url) || !strings.Contains(msg, "300ms") {
		t.Errorf("response = %v", m)
	}
	if !strings.Contains(p.errOut.String(), "mcpauth login "+d.url) {
		t.Errorf("stderr does not say what to run: %s", p.errOut)
	}
	p.stdin.Close()
	if code := p.exited(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// --no-login answers with the command to run; once someone ran it
// elsewhere, the running proxy uses the new credentials.
func TestProxyNoLoginThenLogin(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	p := d.startProxy(t, runOpts{}, "--no-login").raw()
	p.send(t, initializeLine)
	m := p.recv(t, 20*time.Second)
	if e, _ := m["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "mcpauth login "+d.url) {
		t.Fatalf("response = %v", m)
	}
	if d.as.Stats().AuthorizationRequests != 0 {
		t.Fatal("--no-login started a login")
	}
	if r := d.run(t, "login", d.url); r.code != 0 {
		t.Fatal("login failed")
	}
	p.send(t, strings.Replace(initializeLine, `"id":1`, `"id":2`, 1))
	m = p.recv(t, 20*time.Second)
	if m["id"] != float64(2) || m["result"] == nil {
		t.Errorf("after login elsewhere: %v", m)
	}
}

// Two proxies for one server that both need a login: one runs it, the
// other waits for it and uses its result. One browser, one authorization.
func TestTwoProxiesOneLogin(t *testing.T) {
	d := startDemo(t, authserver.Config{})
	var opens atomic.Int32
	slowApprove := func(ctx context.Context, u string) error {
		opens.Add(1)
		go func() {
			time.Sleep(500 * time.Millisecond)
			_ = consentOpener("approve")(context.Background(), u)
		}()
		return nil
	}
	a := d.startProxy(t, runOpts{open: slowApprove}).raw()
	b := d.startProxy(t, runOpts{open: slowApprove}).raw()
	var wg sync.WaitGroup
	results := make([]map[string]any, 2)
	for i, p := range []*runningProxy{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.send(t, initializeLine)
			results[i] = p.recv(t, 30*time.Second)
		}()
	}
	wg.Wait()
	for i, m := range results {
		if m["result"] == nil {
			t.Errorf("proxy %d: %v", i, m)
		}
	}
	if n := opens.Load(); n != 1 {
		t.Errorf("browser opened %d times, want 1", n)
	}
	if n := d.as.Stats().AuthorizationRequests; n != 1 {
		t.Errorf("authorization requests = %d, want 1", n)
	}
	waited := strings.Contains(a.errOut.String(), "another mcpauth process is logging in") ||
		strings.Contains(b.errOut.String(), "another mcpauth process is logging in")
	if !waited {
		t.Error("neither proxy said it waited for the other's login")
	}
}

// Only protocol goes to stdout: a line that is not JSON gets a parse
// error, and the proxy carries on.
func TestProxyParseError(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	if r := d.run(t, "login", d.url); r.code != 0 {
		t.Fatal("login failed")
	}
	p := d.startProxy(t, runOpts{}).raw()
	p.send(t, "not json")
	m := p.recv(t, 10*time.Second)
	if e, _ := m["error"].(map[string]any); e == nil || e["code"] != float64(-32700) {
		t.Errorf("response = %v", m)
	}
	p.send(t, initializeLine)
	if m = p.recv(t, 10*time.Second); m["result"] == nil {
		t.Errorf("initialize after a bad line: %v", m)
	}
	// In the established session a line that looks like an object goes
	// to the server before the proxy decodes it; the server's parse
	// error comes back, and the session carries on.
	p.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	time.Sleep(50 * time.Millisecond)
	p.send(t, `{"jsonrpc":"2.0","id":7,"method":"tools/list",oops}`)
	m = p.recv(t, 10*time.Second)
	if e, _ := m["error"].(map[string]any); e == nil || e["code"] != float64(-32700) {
		t.Errorf("response to a broken object = %v", m)
	}
	p.send(t, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`)
	if m = p.recv(t, 10*time.Second); m["id"] != float64(8) || m["result"] == nil {
		t.Errorf("tools/list after a broken object: %v", m)
	}
}

func queryParam(t *testing.T, rawURL, name string) string {
	t.Helper()
	i := strings.Index(rawURL, "?")
	if i < 0 {
		t.Fatalf("no query in %s", rawURL)
	}
	for _, kv := range strings.Split(rawURL[i+1:], "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			u, err := urlUnescape(v)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("no %s in %s", name, rawURL)
	return ""
}

// A cancelled call sends notifications/cancelled through the proxy, with
// the headers the 2026-07-28 protocol asks of notifications too, and the
// server's tool sees the cancellation.
func TestProxyCancellation(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("protocol "+version, func(t *testing.T) {
			srv := mcp.NewServer(&mcp.Implementation{Name: "slow", Version: "1"}, nil)
			cancelled := make(chan struct{}, 1)
			mcp.AddTool(srv, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
				select {
				case <-ctx.Done():
					cancelled <- struct{}{}
				case <-time.After(20 * time.Second):
				}
				return &mcp.CallToolResult{}, nil, nil
			})
			hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
			t.Cleanup(hs.Close)
			d := &demo{home: privateDir(t), url: hs.URL + "/mcp"}
			p := d.startProxy(t, runOpts{})
			cs := p.client(t, nil, &mcp.ClientSessionOptions{ProtocolVersion: version})
			defer cs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow"}); err == nil {
				t.Fatal("the call was not cancelled")
			}
			select {
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Fatalf("the server never saw the cancellation; proxy stderr:\n%s", p.errOut)
			}
			if strings.Contains(p.errOut.String(), "could not send") {
				t.Errorf("proxy stderr: %s", p.errOut)
			}
		})
	}
}
