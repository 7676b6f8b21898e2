package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpauth/mcpauth"
)

const (
	// defaultProxyLoginTimeout bounds a login the proxy starts: an MCP
	// client shows stderr to nobody, so a login nobody finishes must end.
	defaultProxyLoginTimeout = 2 * time.Minute
	// maxMessage bounds one JSON-RPC message, on stdin or in an event.
	maxMessage = 64 << 20
	// stdinGrace is how long requests still in flight may finish after
	// stdin closes, unless a login is pending (then the proxy exits at
	// once).
	stdinGrace = 2 * time.Second
	// shutdownWait bounds the wait for the proxy's goroutines at exit.
	shutdownWait = 3 * time.Second
)

// Protocol versions the proxy tells apart (MCP headers).
const (
	protocol20260728 = "2026-07-28"
	metaProtocolKey  = "io.modelcontextprotocol/protocolVersion"
)

type proxyOptions struct {
	login   loginOptions
	noLogin bool
}

func newProxyCmd(f *Factory) *cobra.Command {
	var o proxyOptions
	cmd := &cobra.Command{
		Use:   "proxy <server-url>",
		Short: "Serve a remote MCP server over stdio, with authorization",
		Long: `Run a stdio MCP server that forwards every message to the remote MCP server
(Streamable HTTP) with authorization: a single-binary replacement for
mcp-remote. Configure an MCP client with:

  {"command": "mcpauth", "args": ["proxy", "https://mcp.example.com/mcp"]}

It uses stored credentials (see mcpauth login), refreshes them silently, and
opens the browser for a login when one is needed. Server-initiated messages
and notifications are passed through. Stdout carries only the protocol;
logs go to stderr. The proxy exits when stdin closes, even during a login.

A login nobody finishes ends after --timeout, with a message saying to run
mcpauth login in a terminal. Two proxies for one server do not collide:
callback ports are ephemeral, and a login one of them runs is awaited by the
other.`,
		Args: exactArgs("server URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			serverURL, err := serverArg(cmd, args[0])
			if err != nil {
				return err
			}
			return f.runProxy(cmd.Context(), serverURL, o)
		},
	}
	o.login.register(cmd, defaultProxyLoginTimeout)
	cmd.Flags().BoolVar(&o.noLogin, "no-login", false, "never start a browser login; answer requests with an error saying to run mcpauth login")
	return cmd
}

func (f *Factory) runProxy(ctx context.Context, serverURL string, o proxyOptions) error {
	co := o.login.clientOptions(true)
	co.interactive, co.background = !o.noLogin, true
	c, err := f.newAuthClient(ctx, serverURL, co)
	if err != nil {
		return err
	}
	ios := f.IOStreams
	p := &proxy{
		f:       f,
		c:       c,
		url:     serverURL,
		hc:      c.httpClient(),
		out:     ios.Out,
		timeout: o.login.timeout,
		logf:    func(format string, args ...any) { ios.Errf("mcpauth proxy: "+format, args...) },
	}
	p.logf("forwarding stdio to %s", serverURL)
	return p.run(ctx, ios.In)
}

// proxy pumps JSON-RPC messages between stdio and a Streamable HTTP MCP
// server. Messages pass through as they are; it reads only what the HTTP
// transport needs: the method, the id, the negotiated protocol version and
// the session id.
type proxy struct {
	f       *Factory
	c       *authClient
	url     string
	hc      *http.Client
	out     io.Writer
	timeout time.Duration
	logf    func(string, ...any)

	outMu  sync.Mutex
	outErr error // the first failed write to stdout

	mu              sync.Mutex
	sessionID       string
	protocolVersion string
	gate            chan struct{} // closed when the pending handshake request completes
	listening       bool
	closing         bool
	running         int
	idle            chan struct{} // closed when running drops to 0 while closing
}

// envelope is the part of a JSON-RPC message the proxy looks at.
type envelope struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

func (e envelope) isCall() bool { return e.Method != "" && len(e.ID) > 0 && string(e.ID) != "null" }

// message is one line from stdin: a JSON-RPC message or a batch.
type message struct {
	raw  []byte
	envs []envelope
	// version is the protocol version the message names in its _meta.
	version string
}

func (m message) calls() []envelope {
	var out []envelope
	for _, e := range m.envs {
		if e.isCall() {
			out = append(out, e)
		}
	}
	return out
}

// handshake reports a message the rest must wait for, so that the server
// sees the handshake in order: initialize (it brings the session id), the
// initialized notification, or server/discover.
func (m message) handshake() bool {
	if len(m.envs) != 1 {
		return false
	}
	switch m.envs[0].Method {
	case "initialize", "notifications/initialized", "server/discover":
		return true
	}
	return false
}

func (m message) method() string {
	if len(m.envs) == 1 {
		return m.envs[0].Method
	}
	return ""
}

func (p *proxy) run(parent context.Context, in io.Reader) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	lines := make(chan []byte)
	stop := make(chan struct{})
	defer close(stop)
	go p.readLines(in, lines, stop)

	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			p.dispatch(ctx, line)
		case <-parent.Done():
			done = true
		}
	}

	if parent.Err() == nil {
		p.drain()
	}
	cancel()
	p.mu.Lock()
	p.closing = true
	idle := make(chan struct{})
	p.idle = idle
	if p.running == 0 {
		close(idle)
		p.idle = nil
	}
	p.mu.Unlock()
	select {
	case <-idle:
	case <-time.After(shutdownWait):
		p.logf("some requests did not end within %s; exiting anyway", shutdownWait)
	}
	p.endSession()
	if parent.Err() != nil {
		p.logf("interrupted; exiting")
	} else {
		p.logf("stdin closed; exiting")
	}
	return nil
}

// drain lets requests in flight finish for a little while after stdin
// closed, except while a login is pending: nobody is left to wait for it.
func (p *proxy) drain() {
	deadline := time.Now().Add(stdinGrace)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := p.running - p.listenerCount()
		p.mu.Unlock()
		if n <= 0 {
			return
		}
		if p.c.step.Pending() {
			p.logf("stdin closed while a login was pending; cancelling the login")
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proxy) listenerCount() int {
	if p.listening {
		return 1
	}
	return 0
}

// goRun runs fn in a goroutine counted for shutdown, unless the proxy is
// closing.
func (p *proxy) goRun(fn func()) bool {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return false
	}
	p.running++
	p.mu.Unlock()
	go func() {
		defer func() {
			p.mu.Lock()
			p.running--
			if p.running == 0 && p.closing && p.idle != nil {
				close(p.idle)
				p.idle = nil
			}
			p.mu.Unlock()
		}()
		fn()
	}()
	return true
}

// readLines sends each line of in to lines, and closes it at the end of
// in. It gives up when stop closes.
func (p *proxy) readLines(in io.Reader, lines chan<- []byte, stop <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxMessage)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		select {
		case lines <- bytes.Clone(line):
		case <-stop:
			return
		}
	}
	if err := sc.Err(); err != nil {
		p.logf("reading stdin: %v", err)
	}
}

// dispatch parses one line and posts it, in order behind a pending
// handshake.
func (p *proxy) dispatch(ctx context.Context, line []byte) {
	m := message{raw: line}
	if line[0] == '[' {
		if err := json.Unmarshal(line, &m.envs); err != nil {
			p.writeError(json.RawMessage("null"), -32700, "parse error: "+err.Error())
			return
		}
	} else {
		var e envelope
		if err := json.Unmarshal(line, &e); err != nil {
			p.writeError(json.RawMessage("null"), -32700, "parse error: "+err.Error())
			return
		}
		m.envs = []envelope{e}
	}
	for _, e := range m.envs {
		if v := p.noteVersion(e); v != "" {
			m.version = v
		}
	}

	p.mu.Lock()
	wait := p.gate
	var release chan struct{}
	if m.handshake() {
		release = make(chan struct{})
		p.gate = release
	}
	p.mu.Unlock()

	p.goRun(func() {
		if release != nil {
			defer close(release)
		}
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				p.fail(m, ctx.Err())
				return
			}
		}
		p.post(ctx, m)
	})
}

// noteVersion records and returns the protocol version a request names in
// its _meta (the stateless 2026-07-28 protocol sends it with every
// request).
func (p *proxy) noteVersion(e envelope) string {
	if e.Method == "" || len(e.Params) == 0 {
		return ""
	}
	var params struct {
		Meta map[string]any `json:"_meta"`
	}
	if json.Unmarshal(e.Params, &params) != nil {
		return ""
	}
	v, _ := params.Meta[metaProtocolKey].(string)
	if v != "" {
		p.mu.Lock()
		p.protocolVersion = v
		p.mu.Unlock()
	}
	return v
}

// headers sets the MCP headers of a POST for m.
func (p *proxy) headers(h http.Header, m message) {
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	p.mu.Lock()
	sid, version := p.sessionID, p.protocolVersion
	p.mu.Unlock()
	if sid != "" {
		h.Set("Mcp-Session-Id", sid)
	}
	if m.method() == "initialize" {
		return
	}
	if m.version != "" {
		version = m.version
	}
	if version != "" {
		h.Set("Mcp-Protocol-Version", version)
	}
	// The 2026-07-28 protocol repeats the method (of requests and
	// notifications) and the name in headers.
	if version >= protocol20260728 && m.method() != "" {
		e := m.envs[0]
		h.Set("Mcp-Method", e.Method)
		var params struct {
			Name string `json:"name"`
			URI  string `json:"uri"`
		}
		_ = json.Unmarshal(e.Params, &params)
		switch e.Method {
		case "tools/call", "prompts/get":
			h.Set("Mcp-Name", params.Name)
		case "resources/read":
			h.Set("Mcp-Name", params.URI)
		}
	}
}

// post sends m to the server and forwards what comes back.
func (p *proxy) post(ctx context.Context, m message) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(m.raw))
	if err != nil {
		p.fail(m, err)
		return
	}
	p.headers(req.Header, m)
	resp, err := p.hc.Do(req)
	if err != nil {
		p.fail(m, err)
		return
	}
	defer resp.Body.Close()
	if m.method() == "initialize" && resp.StatusCode < 300 {
		if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
			p.mu.Lock()
			if p.sessionID == "" {
				p.sessionID = sid
			}
			p.mu.Unlock()
		}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent:
		if m.method() == "notifications/initialized" {
			p.startListening(ctx)
		}
		return
	case resp.StatusCode >= 400:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if mt == "application/json" && p.forwardResponses(body, m) {
			return
		}
		msg := fmt.Sprintf("the MCP server answered HTTP %d", resp.StatusCode)
		if resp.StatusCode == http.StatusNotFound && req.Header.Get("Mcp-Session-Id") != "" {
			msg += ": the session has ended; restart the connection"
		}
		if t := strings.TrimSpace(string(body)); t != "" && len(t) < 300 {
			msg += ": " + t
		}
		p.fail(m, errors.New(msg))
		return
	case mt == "application/json":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxMessage))
		if err != nil {
			p.fail(m, err)
			return
		}
		p.forward(body)
	case mt == "text/event-stream":
		p.stream(ctx, resp.Body, m)
	default:
		if len(m.calls()) > 0 {
			p.fail(m, fmt.Errorf("the MCP server answered with content type %q", resp.Header.Get("Content-Type")))
		}
	}
}

// forwardResponses forwards an error body that holds JSON-RPC responses;
// it reports whether it did.
func (p *proxy) forwardResponses(body []byte, m message) bool {
	body = bytes.TrimSpace(body)
	var e envelope
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &e) != nil || len(e.ID) == 0 || e.Method != "" {
		return false
	}
	p.forward(body)
	return len(m.calls()) <= 1
}

// stream forwards the events of a POST's event stream, resuming it with
// GET and Last-Event-ID when it breaks before the response arrived.
func (p *proxy) stream(ctx context.Context, body io.Reader, m message) {
	want := map[string]bool{}
	for _, e := range m.calls() {
		want[compactID(e.ID)] = true
	}
	lastID, err := p.readEvents(ctx, body, want, "")
	for attempt := 0; len(want) > 0 && ctx.Err() == nil && attempt < 3; attempt++ {
		if lastID == "" {
			break
		}
		p.logf("the response stream broke (%v); resuming from event %s", err, lastID)
		resp, rerr := p.get(ctx, lastID)
		if rerr != nil {
			err = rerr
			continue
		}
		lastID, err = p.readEvents(ctx, resp.Body, want, lastID)
		resp.Body.Close()
	}
	if len(want) > 0 && ctx.Err() == nil {
		if err == nil {
			err = errors.New("the response stream ended before the response")
		}
		p.fail(m, err)
	}
}

// readEvents forwards the messages of an event stream. Responses whose id
// is in want are removed from it. It returns the last event id seen.
func (p *proxy) readEvents(ctx context.Context, body io.Reader, want map[string]bool, lastID string) (string, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxMessage)
	var data bytes.Buffer
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data.Len() > 0 && (event == "" || event == "message") {
				msg := bytes.Clone(data.Bytes())
				p.forward(msg)
				var e envelope
				if json.Unmarshal(msg, &e) == nil && e.Method == "" && len(e.ID) > 0 {
					delete(want, compactID(e.ID))
				}
			}
			data.Reset()
			event = ""
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(value)
		case "id":
			lastID = value
		case "event":
			event = value
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return lastID, err
	}
	return lastID, nil
}

// get opens the server's event stream (GET), resuming after lastID when
// set.
func (p *proxy) get(ctx context.Context, lastID string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	p.mu.Lock()
	sid, version := p.sessionID, p.protocolVersion
	p.mu.Unlock()
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		resp.Body.Close()
		return nil, &streamRefused{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	}
	return resp, nil
}

type streamRefused struct {
	status      int
	contentType string
}

func (e *streamRefused) Error() string {
	return fmt.Sprintf("the server refused the event stream: HTTP %d, content type %q", e.status, e.contentType)
}

// startListening opens the standalone event stream once the session is
// initialized (protocol versions before 2026-07-28, which replaced it with
// subscriptions/listen), for messages the server sends unprompted.
func (p *proxy) startListening(ctx context.Context) {
	p.mu.Lock()
	if p.listening || (p.protocolVersion != "" && p.protocolVersion >= protocol20260728) {
		p.mu.Unlock()
		return
	}
	p.listening = true
	p.mu.Unlock()
	p.goRun(func() {
		defer func() {
			p.mu.Lock()
			p.listening = false
			p.mu.Unlock()
		}()
		p.listen(ctx)
	})
}

// listen forwards the standalone event stream, reconnecting (with
// Last-Event-ID) when it breaks, until ctx ends.
func (p *proxy) listen(ctx context.Context) {
	lastID, failures := "", 0
	for ctx.Err() == nil {
		resp, err := p.get(ctx, lastID)
		var refused *streamRefused
		switch {
		case errors.As(err, &refused) && refused.status == http.StatusMethodNotAllowed:
			return // the server offers no such stream
		case errors.As(err, &refused):
			p.logf("%v; server-initiated messages will not arrive", err)
			return
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			failures++
			if failures > 5 {
				p.logf("the event stream failed %d times (%v); giving up on server-initiated messages", failures, err)
				return
			}
		default:
			failures = 0
			lastID, _ = p.readEvents(ctx, resp.Body, map[string]bool{}, lastID)
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(failures+1) * 500 * time.Millisecond):
		}
	}
}

// forward writes one message (or batch) from the server to stdout, on one
// line, and notes the protocol version an initialize result negotiates.
func (p *proxy) forward(msg []byte) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, msg); err != nil {
		p.logf("dropping a message from the server that is not JSON: %v", err)
		return
	}
	var e envelope
	if json.Unmarshal(buf.Bytes(), &e) == nil && len(e.Result) > 0 {
		var r struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if json.Unmarshal(e.Result, &r) == nil && r.ProtocolVersion != "" {
			p.mu.Lock()
			p.protocolVersion = r.ProtocolVersion
			p.mu.Unlock()
		}
	}
	buf.WriteByte('\n')
	p.outMu.Lock()
	defer p.outMu.Unlock()
	if p.outErr != nil {
		return // the client is gone
	}
	if _, p.outErr = p.out.Write(buf.Bytes()); p.outErr != nil {
		p.logf("writing to stdout: %v", p.outErr)
	}
}

// fail answers each call of m with an error, and logs why.
func (p *proxy) fail(m message, err error) {
	msg := redactText(p.explain(err))
	calls := m.calls()
	if len(calls) == 0 {
		p.logf("could not send %s: %s", orNone(m.method()), msg)
		return
	}
	p.logf("%s failed: %s", orNone(m.method()), msg)
	for _, c := range calls {
		p.writeError(c.ID, -32000, "mcpauth proxy: "+msg)
	}
}

// explain turns an error into a message for the person behind the MCP
// client, naming the command that fixes a login problem.
func (p *proxy) explain(err error) string {
	fix := "run `mcpauth login " + p.url + "` in a terminal, then retry"
	var lr *mcpauth.LoginRequiredError
	switch {
	case errors.As(err, &lr):
		return fmt.Sprintf("not logged in to %s and this proxy may not start a login; %s", p.url, fix)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the login for %s was not finished within %s (no browser, or nobody finished it); %s", p.url, p.timeout, fix)
	case errors.Is(err, context.Canceled):
		return "cancelled: the proxy is shutting down"
	}
	return err.Error()
}

func (p *proxy) writeError(id json.RawMessage, code int, msg string) {
	data, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg}})
	p.forward(data)
}

// endSession ends the HTTP session, if one was started, with a DELETE
// that carries the stored token and never starts a login. It waits two
// seconds at most.
func (p *proxy) endSession() {
	p.mu.Lock()
	sid := p.sessionID
	p.mu.Unlock()
	if sid == "" {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.deleteSession(sid)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

func (p *proxy) deleteSession(sid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, p.url, nil)
	if err != nil {
		return
	}
	req.Header.Set("Mcp-Session-Id", sid)
	if tok, err := p.c.transport().Token(ctx); err == nil && !strings.EqualFold(tok.TokenType, "DPoP") {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	if resp, err := p.f.baseTransport().RoundTrip(req); err == nil {
		resp.Body.Close()
	}
}

func compactID(id json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return string(id)
	}
	return buf.String()
}
