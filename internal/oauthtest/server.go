// Package oauthtest provides small, configurable fakes for testing an MCP
// client's authorization: a recording HTTP server on 127.0.0.1, a fake
// OAuth authorization server (metadata, dynamic registration, authorize,
// token), a fake protected MCP server (protected resource metadata,
// WWW-Authenticate challenges) and a scripted browser for authorize.Loopback.
//
// The fakes are deliberately hand-written: tests need them to misbehave on
// demand (wrong issuers, missing parameters, hostile URLs), which a real
// server will not do. Every route of every server can be replaced with
// [Server.Handle], and every request is recorded.
//
// The package imports nothing from this module, so any package's tests can
// use it.
package oauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Request is one request a [Server] received.
type Request struct {
	Method string
	Path   string
	// Query is the URL's query; RawQuery the same, unparsed.
	Query    url.Values
	RawQuery string
	Header   http.Header
	// Body is the request body, read in full.
	Body []byte
}

// Form parses Body as application/x-www-form-urlencoded.
func (r *Request) Form() url.Values {
	v, _ := url.ParseQuery(string(r.Body))
	return v
}

// JSON decodes Body into v.
func (r *Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Server is an httptest server on 127.0.0.1 that records every request
// and serves the handlers registered by exact path; other paths answer
// 404. It is safe for concurrent use.
type Server struct {
	// URL is the server's origin, http://127.0.0.1:port.
	URL string

	srv *httptest.Server

	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	log    []*Request
}

// NewServer starts a server; it is closed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{routes: map[string]http.HandlerFunc{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// NewTLSServer starts a server that speaks https, at
// https://127.0.0.1:port, with httptest's certificate; it is closed when
// the test ends. [Server.TLSTransport] trusts it.
func NewTLSServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{routes: map[string]http.HandlerFunc{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// TLSTransport returns an http.Transport that trusts the certificate of a
// server from [NewTLSServer] (all of them share httptest's), with dial,
// if not nil, as its DialContext.
func (s *Server) TLSTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	tr := s.srv.Client().Transport.(*http.Transport).Clone()
	if dial != nil {
		tr.DialContext = dial
	}
	return tr
}

// Handle serves path with h, replacing any handler the path had: the way
// to make a fake misbehave.
func (s *Server) Handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

// Unhandle removes path's handler, so that it answers 404.
func (s *Server) Unhandle(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.routes, path)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    r.URL.Query(),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     body,
	}
	s.mu.Lock()
	s.log = append(s.log, rec)
	h := s.routes[r.URL.Path]
	s.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// Requests returns every request received, in arrival order.
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.log...)
}

// RequestsTo returns the requests received for path, in arrival order.
func (s *Server) RequestsTo(path string) []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Request
	for _, r := range s.log {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Count returns the number of requests received for path.
func (s *Server) Count(path string) int { return len(s.RequestsTo(path)) }

// Total returns the number of requests received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Paths returns the path of each request received, in arrival order.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.log))
	for i, r := range s.log {
		out[i] = r.Path
	}
	return out
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error is an OAuth error response (RFC 6749 §5.2, RFC 7591 §3.2.2).
type Error struct {
	// Status is the HTTP status; 0 means 400.
	Status      int
	Code        string
	Description string
}

// Write writes e as a JSON error response.
func (e *Error) Write(w http.ResponseWriter) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	WriteJSON(w, status, body)
}

// ClosedURL returns an http URL on 127.0.0.1 at which nothing listens: a
// request to it fails with a network error (connection refused).
func ClosedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}
