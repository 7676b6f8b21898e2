package authorize

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// DefaultTimeout bounds how long a [Loopback] waits for the person.
const DefaultTimeout = 5 * time.Minute

// Loopback is the [Step] of a native client (RFC 8252 §7.3): it listens on
// the loopback interface for the authorization server's redirect, accepts
// exactly one callback, verifies it, and serves a plain result page.
type Loopback struct {
	// Open takes the person to the authorization URL, for example by
	// opening the system browser or printing the URL. Open may return
	// before the person has finished. Required.
	Open func(ctx context.Context, authURL string) error
	// Host to listen on: "127.0.0.1" (the default) or "::1". Nothing
	// else is accepted: the listener is never reachable from another
	// machine, and a name such as "localhost" would need a lookup.
	Host string
	// Port to listen on; 0 picks an ephemeral port, after trying the port
	// of the preferred redirect URI.
	Port int
	// Path of the redirect URI; default "/callback".
	Path string
	// Timeout bounds the wait for the person; default DefaultTimeout.
	Timeout time.Duration
}

// Start listens for the redirect.
func (l *Loopback) Start(ctx context.Context, preferred string) (Session, error) {
	if l.Open == nil {
		return nil, errors.New("authorize.Loopback: Open is nil")
	}
	host, path := l.Host, l.Path
	if host == "" {
		host = "127.0.0.1"
	}
	if path == "" {
		path = "/callback"
	}
	switch host {
	case "127.0.0.1":
	case "::1", "[::1]":
		host = "::1"
	default:
		return nil, fmt.Errorf("authorize.Loopback: host %q is not 127.0.0.1 or ::1", host)
	}
	var lc net.ListenConfig
	var ln net.Listener
	var err error
	for _, port := range l.ports(preferred, host, path) {
		ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listening for the authorization redirect: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s := &loopbackSession{
		open:     l.Open,
		timeout:  l.Timeout,
		path:     path,
		ln:       ln,
		redirect: (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path}).String(),
		received: make(chan Response, 1),
		result:   make(chan pageResult, 1),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ports lists the ports to try: the configured one, or else the preferred
// redirect URI's port when it has this host and path, then ephemeral.
func (l *Loopback) ports(preferred, host, path string) []int {
	if l.Port != 0 {
		return []int{l.Port}
	}
	if u, err := url.Parse(preferred); err == nil && u.Scheme == "http" && u.Hostname() == host && u.Path == path {
		if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 {
			return []int{p, 0}
		}
	}
	return []int{0}
}

type pageResult struct {
	code string
	err  error
}

type loopbackSession struct {
	open     func(context.Context, string) error
	timeout  time.Duration
	path     string
	ln       net.Listener
	srv      *http.Server
	redirect string

	mu       sync.Mutex
	used     bool
	verify   func(Response) (string, error)
	received chan Response
	result   chan pageResult
	closeErr error
	closed   sync.Once
}

func (s *loopbackSession) RedirectURI() string { return s.redirect }

func (s *loopbackSession) Wait(ctx context.Context, authURL string, verify func(Response) (string, error)) (string, error) {
	if _, err := urlcheck.HTTPSOrLoopback("authorization URL", authURL); err != nil {
		return "", err // URL-1: never hand the browser anything else
	}
	s.mu.Lock()
	s.verify = verify
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	openErr := make(chan error, 1)
	go func() { openErr <- s.open(ctx, authURL) }()

	for {
		select {
		case r := <-s.result:
			return r.code, r.err
		case err := <-openErr:
			if err != nil {
				return "", fmt.Errorf("opening the authorization URL: %w", err)
			}
			openErr = nil // keep waiting for the redirect
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", fmt.Errorf("no authorization redirect arrived within %s: %w", s.timeout, ctx.Err())
			}
			return "", ctx.Err()
		}
	}
}

func (s *loopbackSession) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.path {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	used, verify := s.used, s.verify
	// Only a callback that is verified uses the session up: one that
	// arrives before Wait must not stop the real one from being heard.
	s.used = s.used || verify != nil
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if used || verify == nil {
		w.WriteHeader(http.StatusBadRequest)
		renderPage(w, false, "This login link has already been used or was not expected. Start the login again from your application.")
		return
	}
	code, err := verify(ParseResponse(r.URL.Query()))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		renderPage(w, false, err.Error())
	} else {
		renderPage(w, true, "You can close this window and return to your application.")
	}
	s.result <- pageResult{code: code, err: err}
}

func (s *loopbackSession) Close() error {
	s.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.closeErr = s.srv.Shutdown(ctx)
	})
	return s.closeErr
}

var page = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{if .OK}}Authorized{{else}}Authorization failed{{end}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#1a7f37}.fail{color:#cf222e}p{line-height:1.5}</style></head>
<body><h1 class="{{if .OK}}ok{{else}}fail{{end}}">{{if .OK}}Authorized{{else}}Authorization failed{{end}}</h1>
<p>{{.Message}}</p></body></html>
`))

// renderPage writes the result page; html/template escapes the message.
func renderPage(w http.ResponseWriter, ok bool, message string) {
	_ = page.Execute(w, struct {
		OK      bool
		Message string
	}{ok, message})
}
