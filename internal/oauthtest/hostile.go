package oauthtest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Giant serves an enormous response body that is generated as it is
// written, never held in memory: a hostile server's gigabyte document.
type Giant struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// ContentType; "" means application/json.
	ContentType string
	// Prefix starts the body, such as `{"issuer":"`.
	Prefix string
	// Size is the number of bytes after Prefix.
	Size int64

	sent atomic.Int64
}

// GiB is a gigabyte, the usual Size.
const GiB = 1 << 30

// ServeHTTP writes the body until it is done or the client goes away.
func (g *Giant) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	ct := g.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	status := g.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	n, _ := io.Copy(w, Endless(g.Prefix, g.Size))
	g.sent.Add(n)
}

// Sent returns the number of bytes written so far, which stays far below
// Size when the client stops reading.
func (g *Giant) Sent() int64 { return g.sent.Load() }

// Endless returns a reader of prefix followed by n bytes of 'a', made up
// as they are read.
func Endless(prefix string, n int64) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeat('a'), n))
}

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Trickle returns a handler that answers 200 and then sends prefix and
// one more byte every few milliseconds, for ever: a hostile server that
// holds the client's connection open. It stops when the client goes away.
// The pace is the server's; no test should assert on time.
func Trickle(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fl, _ := w.(http.Flusher)
		flush := func() {
			if fl != nil {
				fl.Flush()
			}
		}
		_, _ = io.WriteString(w, prefix)
		flush()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := io.WriteString(w, " "); err != nil {
					return
				}
				flush()
			}
		}
	}
}

// RedirectTo returns a handler that redirects every request to target
// with status (such as http.StatusTemporaryRedirect, which makes a client
// resend a POST with its body).
func RedirectTo(target string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, status)
	}
}

// WriteRaw writes body with the given status and content type.
func WriteRaw(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Deadlines is an http.RoundTripper that records whether each request's
// context carries a deadline, then sends the request with Base (nil means
// http.DefaultTransport). It shows that a request is bounded in time
// without waiting for the bound.
type Deadlines struct {
	Base http.RoundTripper

	mu   sync.Mutex
	seen []bool
}

// RoundTrip implements http.RoundTripper.
func (d *Deadlines) RoundTrip(r *http.Request) (*http.Response, error) {
	_, ok := r.Context().Deadline()
	d.mu.Lock()
	d.seen = append(d.seen, ok)
	d.mu.Unlock()
	base := d.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// Bounded reports how many requests were sent, and whether every one had
// a deadline.
func (d *Deadlines) Bounded() (n int, all bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ok := range d.seen {
		if !ok {
			return len(d.seen), false
		}
	}
	return len(d.seen), true
}
