package mcpauth_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/store"
)

// fxWaitLimit is a safety net so that a broken test fails instead of
// hanging; no assertion depends on it.
const fxWaitLimit = time.Minute

// fxClock is a settable Config.Now.
type fxClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFxClock() *fxClock { return &fxClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fxClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fxEnv is an MCP server, its authorization server, a browser and what the
// transport under test reports.
type fxEnv struct {
	t       *testing.T
	as      *oauthtest.AS
	res     *oauthtest.Resource
	browser *oauthtest.Browser
	store   *store.Memory
	clock   *fxClock

	mu     sync.Mutex
	events []mcpauth.Event
	logs   bytes.Buffer
}

// newFxEnv starts an authorization server and an MCP server whose metadata
// lists it (unless resCfg.AS is set).
func newFxEnv(t *testing.T, asCfg oauthtest.ASConfig, resCfg oauthtest.ResourceConfig) *fxEnv {
	t.Helper()
	e := &fxEnv{t: t, browser: &oauthtest.Browser{}, store: store.NewMemory(), clock: newFxClock()}
	e.as = oauthtest.NewAS(t, asCfg)
	if resCfg.AS == nil {
		resCfg.AS = []*oauthtest.AS{e.as}
	}
	e.res = oauthtest.NewResource(t, resCfg)
	return e
}

// fxEnvOf wraps servers a test built itself.
func fxEnvOf(t *testing.T, as *oauthtest.AS, res *oauthtest.Resource) *fxEnv {
	return &fxEnv{t: t, as: as, res: res, browser: &oauthtest.Browser{}, store: store.NewMemory(), clock: newFxClock()}
}

// config returns the transport configuration of a desktop client that
// records its events and debug logs.
func (e *fxEnv) config() mcpauth.Config {
	return mcpauth.Config{
		Store:    e.store,
		Step:     &authorize.Loopback{Open: e.browser.Open, Timeout: fxWaitLimit},
		Now:      e.clock.Now,
		Observer: e.observe,
		Logger:   slog.New(slog.NewTextHandler(fxLogWriter{e}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// fxLogWriter collects the transport's logs in the env.
type fxLogWriter struct{ e *fxEnv }

func (w fxLogWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.logs.Write(p)
}

func (e *fxEnv) observe(ev mcpauth.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

// transport returns a transport for the MCP server, its configuration
// changed by mod.
func (e *fxEnv) transport(mod func(*mcpauth.Config)) *mcpauth.Transport {
	e.t.Helper()
	cfg := e.config()
	if mod != nil {
		mod(&cfg)
	}
	tr, err := mcpauth.NewTransport(e.res.URL, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return tr
}

// fxSend sends a request through tr and returns the response's status and
// body.
func fxSend(t *testing.T, tr *mcpauth.Transport, method, url string, body io.Reader) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fxWaitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// post sends a POST to the MCP server and fails the test unless it
// succeeds with 200.
func (e *fxEnv) post(tr *mcpauth.Transport, body string) string {
	e.t.Helper()
	status, got, err := fxSend(e.t, tr, http.MethodPost, e.res.URL, strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("POST %s: %v", e.res.URL, err)
	}
	if status != http.StatusOK {
		e.t.Fatalf("POST %s: %d %s", e.res.URL, status, got)
	}
	return got
}

// fail sends a POST that must fail, and returns the error.
func (e *fxEnv) fail(tr *mcpauth.Transport) error {
	e.t.Helper()
	status, body, err := fxSend(e.t, tr, http.MethodPost, e.res.URL, strings.NewReader(`{}`))
	if err == nil {
		e.t.Fatalf("POST %s succeeded: %d %s", e.res.URL, status, body)
	}
	return err
}

// record returns the events and logs, as one string per event and the
// logs' text.
func (e *fxEnv) record() (events []string, logs string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		events = append(events, fmt.Sprintf("%+v %+v %+v %+v %+v", ev, ev.Client, ev.Token, ev.ServerMetadata, ev.ResourceMetadata))
	}
	return events, e.logs.String()
}

// authQuery returns the query of the i-th authorization request.
func (e *fxEnv) authQuery(i int) map[string][]string {
	e.t.Helper()
	reqs := e.as.Authorizations()
	if len(reqs) <= i {
		e.t.Fatalf("%d authorization requests, want more than %d", len(reqs), i)
	}
	return reqs[i].Query
}

// fxGet returns the first value of k in q, or "".
func fxGet(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}
