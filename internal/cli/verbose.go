package cli

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// maxTraceBody bounds the part of a body --verbose prints.
const maxTraceBody = 16 << 10

// redacted replaces every secret --verbose would otherwise print.
const redacted = "[REDACTED]"

// secretFields are form fields, query parameters and JSON members that
// hold tokens, secrets, codes, verifiers or assertions.
var secretFields = []string{
	"access_token", "refresh_token", "id_token", "token", "subject_token", "actor_token",
	"code", "code_verifier", "device_code", "client_secret", "client_assertion", "assertion",
	"registration_access_token", "password",
}

// secretHeaders are headers whose values are credentials. Authorization
// keeps its scheme.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "Dpop"}

// jsonSecret matches a JSON member holding a secret string.
var jsonSecret = regexp.MustCompile(`"(` + strings.Join(secretFields, "|") + `)"(\s*:\s*)"(?:[^"\\]|\\.)*"`)

// traceTransport prints each request and response to out, for --verbose.
// Secrets are redacted: Authorization and cookie headers, the secret form
// fields and JSON members above, and codes and tokens in URLs (the request
// URL and Location). Event streams are announced, not read.
type traceTransport struct {
	base http.RoundTripper
	out  io.Writer
	seq  atomic.Int64
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := t.seq.Add(1)
	var b strings.Builder
	fmt.Fprintf(&b, "* [%d] > %s %s\n", n, req.Method, redactURL(req.URL.String()))
	writeHeaders(&b, fmt.Sprintf("* [%d] > ", n), req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := peekRequestBody(req)
		if err != nil {
			return nil, err
		}
		writeBody(&b, fmt.Sprintf("* [%d] > ", n), req.Header.Get("Content-Type"), body)
	}
	_, _ = io.WriteString(t.out, b.String())

	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	b.Reset()
	if err != nil {
		fmt.Fprintf(&b, "* [%d] < error after %s: %v\n", n, time.Since(start).Round(time.Millisecond), err)
		_, _ = io.WriteString(t.out, b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "* [%d] < %s (%s)\n", n, resp.Status, time.Since(start).Round(time.Millisecond))
	writeHeaders(&b, fmt.Sprintf("* [%d] < ", n), resp.Header)
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt == "text/event-stream" {
		fmt.Fprintf(&b, "* [%d] < (event stream, not shown)\n", n)
	} else if resp.Body != nil {
		head, err := io.ReadAll(io.LimitReader(resp.Body, maxTraceBody+1))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		if err == nil {
			writeBody(&b, fmt.Sprintf("* [%d] < ", n), ct, head)
		}
	}
	_, _ = io.WriteString(t.out, b.String())
	return resp, nil
}

// peekRequestBody reads the request body and puts a copy back.
func peekRequestBody(req *http.Request) ([]byte, error) {
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxTraceBody+1))
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if len(data) > maxTraceBody+1 {
		data = data[:maxTraceBody+1]
	}
	return data, nil
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, redactHeader(k, v))
		}
	}
}

func writeBody(b *strings.Builder, prefix, contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	truncated := len(body) > maxTraceBody
	if truncated {
		body = body[:maxTraceBody]
	}
	text := redactBody(contentType, body)
	for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(b, "%s%s\n", prefix, line)
	}
	if truncated {
		fmt.Fprintf(b, "%s(truncated)\n", prefix)
	}
}

// redactHeader hides credentials in a header value.
func redactHeader(name, value string) string {
	name = http.CanonicalHeaderKey(name)
	switch {
	case name == "Authorization" || name == "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " " + redacted
		}
		return redacted
	case slices.Contains(secretHeaders, name):
		return redacted
	case name == "Location" || name == "Content-Location" || name == "Referer":
		return redactURL(value)
	}
	return value
}

// redactURL hides secret query parameters (code, tokens) of a URL,
// including ones in its fragment.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.RawQuery)
	}
	if u.Fragment != "" && strings.Contains(u.Fragment, "=") {
		u.RawFragment = redactQuery(u.EscapedFragment())
		u.Fragment, _ = url.PathUnescape(u.RawFragment)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// redactQuery hides the values of secret fields in a query string or form
// body, keeping the order of its fields.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil || slices.Contains(secretFields, name) {
			parts[i] = k + "=" + redacted
		}
	}
	return strings.Join(parts, "&")
}

// redactBody hides secrets in a form or JSON body, or in any text that
// holds JSON (an event stream); other bodies are summarised.
func redactBody(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return redactQuery(string(body))
	case strings.HasPrefix(mt, "text/html"):
		return fmt.Sprintf("(%d bytes of HTML, not shown)", len(body))
	case !isText(body):
		return fmt.Sprintf("(%d bytes of binary data, not shown)", len(body))
	}
	return redactJSONText(string(body))
}

// redactJSONText hides secret JSON members wherever they appear in text.
func redactJSONText(s string) string {
	return jsonSecret.ReplaceAllString(s, `"$1"$2"`+redacted+`"`)
}

// urlSecret matches a secret query parameter inside free text, such as an
// error message that quotes a URL.
var urlSecret = regexp.MustCompile(`([?&#](?:` + strings.Join(secretFields, "|") + `)=)[^&\s"']*`)

// redactText hides secret query parameters and JSON members in free text.
func redactText(s string) string {
	return redactJSONText(urlSecret.ReplaceAllString(s, "${1}"+redacted))
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}
