package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// DefaultMaxBytes bounds every metadata document read.
const DefaultMaxBytes = 1 << 20

// DefaultTimeout bounds each metadata request.
const DefaultTimeout = 10 * time.Second

// A Fetcher retrieves metadata documents. Its zero value is ready to use.
type Fetcher struct {
	// Client sends the requests; nil means http.DefaultClient. Its
	// CheckRedirect is replaced: discovery follows redirects only within
	// the same origin and never from https to http.
	Client *http.Client
	// MaxBytes bounds each document; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Trace, if set, is told of every probe, successful or not.
	Trace func(Probe)
}

// A Probe is one metadata request and its outcome.
type Probe struct {
	Document string // "protected resource metadata" or "authorization server metadata"
	URL      string
	Status   int   // HTTP status, 0 when no response arrived
	Err      error // nil when the document was fetched and accepted
}

// StatusError reports a metadata URL that answered with a status other
// than 200.
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// fallsThrough reports whether a failed probe lets discovery try the next
// well-known URL: a 4xx answer does, and so does a 200 whose body is no
// JSON document at all (an HTML page, say), which is what a site that
// answers every path with its front page gives for a document it does
// not have. A network error, a 5xx or a JSON document with faults stops
// discovery, because the document may well exist at this URL.
func fallsThrough(err error) bool {
	var se *StatusError
	var nd *notDocument
	return (errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500) || errors.As(err, &nd)
}

// notDocument is a body that is no JSON document at all: empty, or an
// HTML page.
type notDocument struct{ reason string }

func (e *notDocument) Error() string { return e.reason }

// probeErrors are the failures of the probes of one discovery, each
// naming its URL, in order.
type probeErrors []error

func (e probeErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e probeErrors) Unwrap() []error { return e }

// DocumentError reports a metadata document that could not be used.
type DocumentError struct {
	Document string
	URL      string
	Reason   string
	Err      error
}

func (e *DocumentError) Error() string {
	s := fmt.Sprintf("%s at %s: %s", e.Document, e.URL, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DocumentError) Unwrap() error { return e.Err }

func (f *Fetcher) maxBytes() int64 {
	if f != nil && f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultMaxBytes
}

func (f *Fetcher) timeout() time.Duration {
	if f != nil && f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

func (f *Fetcher) trace(p Probe) {
	if f != nil && f.Trace != nil {
		f.Trace(p)
	}
}

// client returns a copy of the configured client whose redirect policy
// keeps discovery on one origin, never from https to http
// ([urlcheck.CheckRedirect]).
func (f *Fetcher) client() *http.Client {
	if f != nil && f.Client != nil {
		return urlcheck.Client(f.Client)
	}
	return urlcheck.Client(nil)
}

// get fetches rawURL and returns its body, at most f.maxBytes() of it,
// within f.timeout(). Only a 200 answer yields a body.
func (f *Fetcher) get(ctx context.Context, document, rawURL string) (status int, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, &DocumentError{Document: document, URL: rawURL, Reason: "bad URL", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("fetching %s: %w", document, urlcheck.CleanError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, nil, &StatusError{URL: rawURL, StatusCode: resp.StatusCode}
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, f.maxBytes()+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading %s from %s: %w", document, rawURL, err)
	}
	if int64(len(body)) > f.maxBytes() {
		return resp.StatusCode, nil, &DocumentError{Document: document, URL: rawURL, Reason: fmt.Sprintf("larger than %d bytes", f.maxBytes())}
	}
	return resp.StatusCode, body, nil
}

// decodeDocument decodes the JSON object body of a metadata document
// found at rawURL into v.
func decodeDocument(document, rawURL string, body []byte, v any) error {
	if err := decodeObject(body, v); err != nil {
		return &DocumentError{Document: document, URL: rawURL, Reason: "not a JSON object", Err: err}
	}
	return nil
}

// decodeObject decodes a JSON object, and explains the commonest fault: an
// HTML page where JSON was expected.
func decodeObject(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &notDocument{"empty body"}
	}
	if trimmed[0] == '<' {
		return &notDocument{"got HTML, not JSON"}
	}
	if trimmed[0] != '{' {
		return errors.New("the body does not start with '{'")
	}
	return json.Unmarshal(trimmed, v)
}

// wellKnownURL inserts /.well-known/<suffix> between the host and the path
// of base (RFC 8615; RFC 8414 §3.1; RFC 9728 §3.1). A terminating slash of
// the path is removed first; query and fragment are dropped.
func wellKnownURL(base *url.URL, suffix string) string {
	u := url.URL{Scheme: base.Scheme, Host: base.Host}
	path := trimTrailingSlash(base.EscapedPath())
	u.RawPath = "/.well-known/" + suffix + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	return u.String()
}

func trimTrailingSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
