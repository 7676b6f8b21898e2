package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// listenDelay is how long after the handshake the standalone event
	// stream opens at the latest (see listenSoon).
	listenDelay = 100 * time.Millisecond
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
and notifications are passed through (on the 2025-11-25 protocol the event
stream opens once the first request after the handshake is answered).
Stdout carries only the protocol;
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
	if f.MaxProcs != nil && ios.getenv("GOMAXPROCS") == "" {
		// The proxy waits on I/O and computes little. With one P, the
		// goroutines a message passes through (the reader, net/http's
		// write and read loops) hand over on one thread instead of waking
		// others: measured, a third less CPU per call and lower latency.
		f.MaxProcs(1)
	}
	in, restore := pollableInput(ios.In)
	defer restore()
	return p.run(ctx, in)
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

	workers workers

	outMu  sync.Mutex
	outErr error // the first failed write to stdout

	mu              sync.Mutex
	sessionID       string
	protocolVersion string
	initID          string                    // the id of the initialize request, compacted
	listIDs         map[string]bool           // ids of tools/list requests awaiting their answer
	toolParams      map[string][]paramBinding // x-mcp-header bindings, by tool name (proxy_params.go)
	gate            chan struct{}             // closed when the pending handshake request completes
	handshaking     int                       // handshake messages dispatched and not yet answered
	listenDue       bool                      // the session is initialized; the event stream is to be opened
	listenStarted   bool                      // the event stream was opened (once per session)
	listening       bool                      // the event stream's goroutine runs
	closing         bool
	running         int
	idle            chan struct{} // closed when running drops to 0 while closing
}

// envelope is the part of a JSON-RPC message the proxy looks at. It is
// decoded in one pass, without copying the params.
type envelope struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params struct {
		Name      string          `json:"name"`      // tools/call, prompts/get
		URI       string          `json:"uri"`       // resources/read
		Arguments json.RawMessage `json:"arguments"` // tools/call
		Meta      struct {
			ProtocolVersion string `json:"io.modelcontextprotocol/protocolVersion"`
		} `json:"_meta"`
	} `json:"params"`
}

// decodeEnvelopes reads the envelopes of a message or a batch. A field of
// another type than the proxy expects (params given by position, say) is
// no error: the message is passed on as it is, and the server judges it.
func decodeEnvelopes(msg []byte) ([]envelope, error) {
	var envs []envelope
	var err error
	if msg[0] == '[' {
		err = json.Unmarshal(msg, &envs)
	} else {
		envs = make([]envelope, 1)
		err = json.Unmarshal(msg, &envs[0])
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		err = nil
	}
	return envs, err
}

func (e envelope) isCall() bool { return e.Method != "" && len(e.ID) > 0 && string(e.ID) != "null" }

// message is one line from stdin: a JSON-RPC message or a batch.
type message struct {
	raw  []byte
	envs []envelope
	// version is the protocol version the message names in its _meta.
	version string
	// decoded, when set, is closed once envs and err are, by the
	// goroutine that decodes the message while it is on its way (see
	// sendsAsIs).
	decoded chan struct{}
	err     error // why the message could not be decoded
	retried bool  // sent again after learning a tool's marks (proxy_params.go)
}

// await waits until m is decoded.
func (m *message) await() {
	if m.decoded != nil {
		<-m.decoded
	}
}

func (m *message) calls() []envelope {
	m.await()
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
func (m *message) handshake() bool {
	switch m.method() {
	case "initialize", "notifications/initialized", "server/discover":
		return true
	}
	return false
}

func (m *message) method() string {
	m.await()
	if len(m.envs) == 1 {
		return m.envs[0].Method
	}
	return ""
}

func (p *proxy) run(parent context.Context, in io.Reader) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxMessage)
	eof := make(chan struct{})
	p.workers.idle = make(chan func())
	p.workers.run(ctx, func() { p.readLines(ctx, sc, eof) })
	select {
	case <-eof:
	case <-parent.Done():
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

// workers runs functions on goroutines that wait for more when done. A
// goroutine per message would grow a new stack through net/http each
// time; these keep theirs.
type workers struct{ idle chan func() }

// run runs fn on a waiting goroutine, or a new one if none waits.
func (w *workers) run(ctx context.Context, fn func()) {
	select {
	case w.idle <- fn:
	default:
		go func() {
			for {
				fn()
				select {
				case fn = <-w.idle:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// begin counts a goroutine that sends a request, unless the proxy is
// closing; end uncounts it.
func (p *proxy) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.running++
	return true
}

func (p *proxy) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	if p.running == 0 && p.closing && p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
}

// readLines reads the messages on stdin and dispatches them, and closes
// eof when stdin ends. The goroutine that reads a message is the one that
// sends it: it hands reading on to a new goroutine first, so a request
// leaves without waiting for another goroutine to be scheduled.
func (p *proxy) readLines(ctx context.Context, sc *bufio.Scanner, eof chan<- struct{}) {
	for sc.Scan() {
		if ctx.Err() != nil {
			break
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		line = bytes.Clone(line)
		if p.sendsAsIs(line) {
			if !p.begin() {
				continue
			}
			// The next goroutine decodes this message while it is on
			// its way to the server, then reads on.
			m := &message{raw: line, decoded: make(chan struct{})}
			p.workers.run(ctx, func() {
				m.envs, m.err = decodeEnvelopes(line)
				close(m.decoded)
				p.readLines(ctx, sc, eof)
			})
			defer p.end()
			p.post(ctx, m)
			p.answered(ctx, m)
			return
		}
		send := p.dispatch(ctx, line)
		if send == nil || !p.begin() {
			continue
		}
		p.workers.run(ctx, func() { p.readLines(ctx, sc, eof) })
		defer p.end()
		send()
		return
	}
	if err := sc.Err(); err != nil {
		p.logf("reading stdin: %v", err)
	}
	close(eof)
}

// dispatch parses one line and returns the function that posts it, in
// order behind a pending handshake; nil when there is nothing to send.
func (p *proxy) dispatch(ctx context.Context, line []byte) func() {
	m := &message{raw: line}
	var err error
	if m.envs, err = decodeEnvelopes(line); err != nil {
		p.writeError(json.RawMessage("null"), -32700, "parse error: "+err.Error())
		return nil
	}
	for _, e := range m.envs {
		if v := e.Params.Meta.ProtocolVersion; v != "" && e.Method != "" {
			m.version = v
		}
	}

	p.mu.Lock()
	if m.version != "" {
		// The stateless 2026-07-28 protocol names its version in every
		// request's _meta.
		p.protocolVersion = m.version
	}
	if m.method() == "initialize" && m.envs[0].isCall() {
		p.initID = compactID(m.envs[0].ID)
	}
	if m.method() == "tools/list" && m.envs[0].isCall() && effective(m.version, p.protocolVersion) >= protocol20260728 {
		if p.listIDs == nil {
			p.listIDs = map[string]bool{}
		}
		p.listIDs[compactID(m.envs[0].ID)] = true
	}
	wait := p.gate
	var release chan struct{}
	if m.handshake() {
		release = make(chan struct{})
		p.gate = release
		p.handshaking++
	}
	p.mu.Unlock()

	return func() {
		if release != nil {
			defer func() {
				p.mu.Lock()
				p.handshaking--
				p.mu.Unlock()
				close(release)
			}()
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
		p.answered(ctx, m)
	}
}

// effective is the protocol version a message is sent under: the one it
// names, else the session's.
func effective(named, session string) string {
	if named != "" {
		return named
	}
	return session
}

// answered follows a message's exchange: the first answer after the
// handshake opens the event stream.
func (p *proxy) answered(ctx context.Context, m *message) {
	if !m.handshake() && len(m.calls()) > 0 {
		p.startListening(ctx)
	}
}

// sendsAsIs reports whether line can go to the server before the proxy
// decodes it, which it then does beside the request, off the path of the
// answer: the session is set up (protocol versions before 2026-07-28; the
// handshake was answered), and the line is one JSON object that takes no
// part in the handshake and names no protocol version of its own. Any
// other line is decoded first.
func (p *proxy) sendsAsIs(line []byte) bool {
	if line[0] != '{' || line[len(line)-1] != '}' {
		return false
	}
	p.mu.Lock()
	ready := p.listenDue && p.handshaking == 0 && p.protocolVersion != "" && p.protocolVersion < protocol20260728
	p.mu.Unlock()
	if !ready {
		return false
	}
	// Strings of a line that may belong to the handshake, or name a
	// protocol version in its _meta.
	for _, s := range [...]string{`"initialize"`, `"notifications/initialized"`, `"server/discover"`, metaProtocolKey} {
		if bytes.Contains(line, []byte(s)) {
			return false
		}
	}
	return true
}

// headers sets the MCP headers of a POST for m.
func (p *proxy) headers(h http.Header, m *message) {
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	p.mu.Lock()
	sid, version := p.sessionID, p.protocolVersion
	p.mu.Unlock()
	if sid != "" {
		h.Set("Mcp-Session-Id", sid)
	}
	if m.decoded != nil {
		// Sent as it is: a message of an established session.
		if version != "" {
			h.Set("Mcp-Protocol-Version", version)
		}
		return
	}
	if m.method() == "initialize" {
		return
	}
	if version = effective(m.version, version); version != "" {
		h.Set("Mcp-Protocol-Version", version)
	}
	// The 2026-07-28 protocol repeats the method (of requests and
	// notifications) and the name in headers.
	if version >= protocol20260728 && m.method() != "" {
		e := m.envs[0]
		h.Set("Mcp-Method", e.Method)
		switch e.Method {
		case "tools/call":
			h.Set("Mcp-Name", headerValue(e.Params.Name))
			p.mu.Lock()
			bindings := p.toolParams[e.Params.Name]
			p.mu.Unlock()
			setParamHeaders(h, bindings, e.Params.Arguments)
		case "prompts/get":
			h.Set("Mcp-Name", headerValue(e.Params.Name))
		case "resources/read":
			h.Set("Mcp-Name", headerValue(e.Params.URI))
		}
	}
}

// post sends m to the server and forwards what comes back.
func (p *proxy) post(ctx context.Context, m *message) {
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
	mt := mediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent:
		if m.method() == "notifications/initialized" {
			p.listenSoon(ctx)
		}
		return
	case resp.StatusCode >= 400:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode == http.StatusBadRequest && p.learnForRetry(ctx, m, body) {
			resp.Body.Close()
			p.post(ctx, m) // once more, with the headers the tool's marks ask for
			return
		}
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
		p.deliver(body)
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
func (p *proxy) forwardResponses(body []byte, m *message) bool {
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
func (p *proxy) stream(ctx context.Context, body io.Reader, m *message) {
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
	lastID, err := readSSE(body, lastID, func(data []byte) bool {
		for _, id := range p.deliver(data) {
			delete(want, id)
		}
		return true
	})
	if ctx.Err() != nil {
		return lastID, nil
	}
	return lastID, err
}

// readSSE reads an event stream (the WHATWG server-sent events format)
// and passes the data of each message event to each, until each returns
// false or the stream ends. It returns the last event id seen, starting
// from lastID.
func readSSE(body io.Reader, lastID string, each func(data []byte) bool) (string, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, maxMessage) // 4 KiB to start, grown for larger events
	var data bytes.Buffer
	var event []byte
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if data.Len() > 0 && (len(event) == 0 || string(event) == "message") && !each(data.Bytes()) {
				return lastID, nil
			}
			data.Reset()
			event = event[:0]
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.Write(value)
		case "id":
			lastID = string(value)
		case "event":
			event = append(event[:0], value...)
		}
	}
	return lastID, sc.Err()
}

// deliver forwards a message (or batch) from the server to stdout and
// returns the ids of the responses in it. The response to initialize also
// sets the protocol version later requests name in their headers, before
// the client can send one. A message that is not JSON is dropped.
func (p *proxy) deliver(msg []byte) []string {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 {
		return nil
	}
	envs, err := decodeEnvelopes(msg)
	if err != nil {
		p.logf("dropping a message from the server that is not JSON: %v", err)
		return nil
	}
	var ids []string
	for _, e := range envs {
		if e.Method != "" || len(e.ID) == 0 {
			continue
		}
		id := compactID(e.ID)
		ids = append(ids, id)
		p.mu.Lock()
		init := p.initID != "" && id == p.initID
		list := p.listIDs[id]
		delete(p.listIDs, id)
		p.mu.Unlock()
		if init {
			p.noteNegotiated(msg)
		}
		if list && len(envs) == 1 {
			msg = p.learnTools(msg)
		}
	}
	p.forward(msg)
	return ids
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
	mt := mediaType(resp.Header.Get("Content-Type"))
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

// listenSoon arranges for the standalone event stream to open, for the
// messages the server sends unprompted, now that the session is
// initialized (protocol versions before 2026-07-28, which replaced it
// with subscriptions/listen). It opens once the client's first request
// after the handshake is answered, or after listenDelay, whichever comes
// first: the client's first request, usually right behind the handshake,
// does not wait behind the GET for a connection and the server's time,
// and the first tools/call is answered after three HTTP requests, not
// four.
func (p *proxy) listenSoon(ctx context.Context) {
	p.mu.Lock()
	p.listenDue = true
	p.mu.Unlock()
	time.AfterFunc(listenDelay, func() { p.startListening(ctx) })
}

// startListening opens the standalone event stream, if it is due and was
// not opened yet.
func (p *proxy) startListening(ctx context.Context) {
	p.mu.Lock()
	if !p.listenDue || p.listenStarted || (p.protocolVersion != "" && p.protocolVersion >= protocol20260728) {
		p.mu.Unlock()
		return
	}
	if p.closing {
		p.mu.Unlock()
		return
	}
	// Counted for shutdown in the same hold of the lock that marks it
	// listening, so that drain never sees the one without the other.
	p.listenStarted, p.listening = true, true
	p.running++
	p.mu.Unlock()
	go func() {
		defer p.end()
		defer func() {
			p.mu.Lock()
			p.listening = false
			p.mu.Unlock()
		}()
		p.listen(ctx)
	}()
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
// line. msg is JSON already checked.
func (p *proxy) forward(msg []byte) {
	line := make([]byte, 0, len(msg)+1)
	if bytes.ContainsAny(msg, "\r\n") {
		// Stdio frames messages by lines: take out the line breaks
		// between tokens (those in strings are escaped already).
		buf := bytes.NewBuffer(line)
		if err := json.Compact(buf, msg); err != nil {
			p.logf("dropping a message from the server that is not JSON: %v", err)
			return
		}
		line = buf.Bytes()
	} else {
		line = append(line, msg...)
	}
	line = append(line, '\n')
	p.outMu.Lock()
	defer p.outMu.Unlock()
	if p.outErr != nil {
		return // the client is gone
	}
	if _, p.outErr = p.out.Write(line); p.outErr != nil {
		p.logf("writing to stdout: %v", p.outErr)
	}
}

// noteNegotiated records the protocol version an initialize result names.
func (p *proxy) noteNegotiated(msg []byte) {
	var e struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if json.Unmarshal(msg, &e) == nil && e.Result.ProtocolVersion != "" {
		p.mu.Lock()
		p.protocolVersion = e.Result.ProtocolVersion
		p.mu.Unlock()
	}
}

// fail answers each call of m with an error, and logs why.
func (p *proxy) fail(m *message, err error) {
	msg := redactText(p.explain(err))
	if m.await(); m.err != nil {
		// A line sent before it was decoded, that turned out not to be
		// JSON: the client hears what it would have heard at once.
		p.logf("a line on stdin is not JSON; the server refused it: %s", msg)
		p.writeError(json.RawMessage("null"), -32700, "parse error: "+m.err.Error())
		return
	}
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

// mediaType returns the media type of a Content-Type value, lower-cased,
// without its parameters (RFC 9110 §8.3.1).
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// compactID is id without insignificant white space, to compare ids as
// the client and the server may write them.
func compactID(id json.RawMessage) string {
	if !bytes.ContainsAny(id, " \t\r\n") {
		return string(id)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return string(id)
	}
	return buf.String()
}
