package mcpauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/netguard"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

// The helpers of the hostile-server suite (hostile_test.go) and the
// redaction test (redaction_test.go). Names start with "h" so as not to
// collide with the other root tests' helpers.

// hLimit is a safety net so that a broken test fails instead of hanging;
// no assertion depends on it.
const hLimit = time.Minute

// hTimeout is Config.Timeout in the cases where a server trickles: the
// request must end with a deadline error. Only the error is asserted, not
// how long it took.
const hTimeout = time.Second

// hSecretMarkers are the markers of every secret the fake authorization
// server mints (access and refresh tokens, codes, client secrets), and of
// those the tests make up (assertions, DPoP keys and proofs).
var hSecretMarkers = []string{
	oauthtest.AccessTokenMarker, oauthtest.RefreshTokenMarker, oauthtest.CodeMarker, oauthtest.ClientSecretMarker,
	hAssertionMarker, hKeyMarker, hProofMarker,
}

const (
	hAssertionMarker = "ASSERTION-SECRET"
	hKeyMarker       = "DPOP-KEY-SECRET"
	hProofMarker     = "DPOP-PROOF-SECRET"
)

// hEnv is an MCP server and its authorization server, possibly hostile,
// another origin that must receive nothing, a fake network, and what the
// transport under test logged, observed and stored.
type hEnv struct {
	t       *testing.T
	as      *oauthtest.AS
	res     *oauthtest.Resource
	other   *oauthtest.Server
	browser *oauthtest.Browser
	net     *oauthtest.Network
	store   *store.Memory

	mu     sync.Mutex
	logs   bytes.Buffer
	events []string
	// extra secrets a case made up, looked for like the markers.
	extra []string
}

// hOptions choose the environment of one case.
type hOptions struct {
	as  oauthtest.ASConfig
	res oauthtest.ResourceConfig
	// tls serves the MCP server over https.
	tls bool
	// policy sets Config.Network: the SSRF-1 policy, over the fake
	// network, allowing 127.0.0.1 (where the test servers are) and
	// nothing else of what it forbids.
	policy bool
	// hosts are the fake network's names.
	hosts map[string][]netip.Addr
}

func newHEnv(t *testing.T, o hOptions) *hEnv {
	t.Helper()
	h := &hEnv{t: t, net: &oauthtest.Network{Hosts: o.hosts}, store: store.NewMemory(), browser: &oauthtest.Browser{}}
	h.as = oauthtest.NewAS(t, o.as)
	srv := oauthtest.NewServer(t)
	if o.tls {
		srv = oauthtest.NewTLSServer(t)
	}
	if o.res.AS == nil {
		o.res.AS = []*oauthtest.AS{h.as}
	}
	h.res = oauthtest.MountResource(srv, o.res)
	h.other = oauthtest.NewServer(t)
	h.other.Handle("/prm", func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusOK, map[string]any{"resource": h.res.URL, "authorization_servers": []string{h.as.Issuer}})
	})
	h.other.Handle("/register", func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusCreated, map[string]any{"client_id": "stolen"})
	})
	h.other.Handle("/token", func(w http.ResponseWriter, _ *http.Request) {
		oauthtest.WriteJSON(w, http.StatusOK, map[string]any{"access_token": "stolen", "token_type": "Bearer"})
	})
	// Credentials for another server, which no case may touch.
	_, err := h.store.Update(context.Background(), store.Key{Resource: "https://unrelated.example/mcp", Issuer: "https://as.unrelated.example"},
		func(*store.Record) (*store.Record, error) {
			return &store.Record{Token: &token.Token{Issuer: "https://as.unrelated.example"}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// config returns the configuration of a desktop client over the fake
// network, logging at debug level and observing every event.
func (h *hEnv) config(o hOptions) mcpauth.Config {
	cfg := mcpauth.Config{
		Store:    h.store,
		Step:     &authorize.Loopback{Open: h.browser.Open, Timeout: hLimit},
		Logger:   slog.New(slog.NewTextHandler(hWriter{h}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: h.observe,
	}
	switch {
	case o.policy:
		cfg.Network = &netguard.Policy{Resolver: h.net, Dial: h.net.Dial, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	case o.tls:
		tr := h.res.Server.TLSTransport(h.net.Dial)
		cfg.Base, cfg.HTTPClient = tr, &http.Client{Transport: tr}
	default:
		// No DNS either: a name reaches the fake dialer, which refuses it.
		tr := &http.Transport{DialContext: h.net.Dial}
		cfg.Base, cfg.HTTPClient = tr, &http.Client{Transport: tr}
	}
	return cfg
}

type hWriter struct{ h *hEnv }

func (w hWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.logs.Write(p)
}

func (h *hEnv) observe(ev mcpauth.Event) {
	s := fmt.Sprintf("%+v|%+v|%+v|%+v|%+v|%+v", ev, ev.Client, ev.Token, ev.ServerMetadata, ev.ResourceMetadata, ev.Scope)
	if b, err := json.Marshal(ev); err == nil {
		s += "|" + string(b)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, s)
}

// post sends a POST to the MCP server through a transport with cfg.
func (h *hEnv) post(cfg mcpauth.Config) error {
	h.t.Helper()
	tr, err := mcpauth.NewTransport(h.res.URL, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.res.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := tr.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Errorf("no error: %d %s", resp.StatusCode, body)
}

// snapshot returns the store's content, to compare before and after.
func (h *hEnv) snapshot() string {
	h.t.Helper()
	recs, err := h.store.List(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// secrets returns every secret value known to have been in play: the
// markers, the PKCE verifiers and client assertions the authorization
// server received, and the case's own.
func (h *hEnv) secrets() []string {
	out := append([]string(nil), hSecretMarkers...)
	reqs := append(h.as.Requests(), h.res.Requests()...)
	for _, r := range reqs {
		f := r.Form()
		for _, k := range []string{"code_verifier", "code", "client_secret", "refresh_token", "client_assertion", "token"} {
			if v := f.Get(k); v != "" && r.Method == http.MethodPost {
				out = append(out, v)
			}
		}
		for _, k := range []string{"Authorization", "DPoP"} {
			for _, v := range r.Header.Values(k) {
				out = append(out, v)
				if _, cred, ok := strings.Cut(v, " "); ok {
					out = append(out, cred)
				}
			}
		}
		hr := http.Request{Header: r.Header}
		if _, pw, ok := hr.BasicAuth(); ok {
			out = append(out, pw)
		}
	}
	h.mu.Lock()
	out = append(out, h.extra...)
	h.mu.Unlock()
	return out
}

// texts returns everything the client produced that a person or a log
// could see: the error in several formats, the logs, the events, and the
// pages the browser was shown.
func (h *hEnv) texts(err error) map[string]string {
	h.browser.Wait()
	out := map[string]string{}
	if err != nil {
		out["error"] = err.Error()
		out["error %+v"] = fmt.Sprintf("%+v", err)
		out["error %#v"] = fmt.Sprintf("%#v", err)
		for i, e := 0, errors.Unwrap(err); e != nil && i < 20; i, e = i+1, errors.Unwrap(e) {
			out[fmt.Sprintf("wrapped error %d", i)] = fmt.Sprintf("%+v", e)
		}
	}
	h.mu.Lock()
	out["logs"] = h.logs.String()
	out["events"] = strings.Join(h.events, "\n")
	h.mu.Unlock()
	for i, p := range h.browser.Pages() {
		out[fmt.Sprintf("page %d", i)] = p.Body
	}
	return out
}

// noLeak fails the test when any secret appears in any text.
func (h *hEnv) noLeak(err error) {
	h.t.Helper()
	secrets := h.secrets()
	for where, text := range h.texts(err) {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				h.t.Errorf("secret %q leaked into the %s:\n%s", s, where, text)
			}
		}
	}
}

// hAs returns a check that err is, or wraps, a T.
func hAs[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}

// hIs returns a check that err is, or wraps, target.
func hIs(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}
