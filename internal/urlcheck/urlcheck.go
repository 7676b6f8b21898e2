// Package urlcheck holds the URL rules every URL a server hands the client
// must pass: RDR-1, URL-1 and the https-or-loopback rule of OAuth 2.1 §1.5.
package urlcheck

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcpauth/mcpauth/internal/redact"
)

// Error explains why a URL was refused. It names the URL's role, such as
// "authorization_endpoint", so the user can tell which document is wrong.
type Error struct {
	Role   string
	URL    string
	Reason string
}

// Error shows the URL without its userinfo, which may hold a password or
// a token, and bounded in length.
func (e *Error) Error() string {
	return fmt.Sprintf("refusing %s %q: %s", e.Role, shown(e.URL), e.Reason)
}

// GoString keeps %#v from showing the URL's userinfo.
func (e *Error) GoString() string {
	return fmt.Sprintf("&urlcheck.Error{Role:%q, URL:%q, Reason:%q}", e.Role, shown(e.URL), e.Reason)
}

// IsLoopbackHost reports whether host (without port) names the loopback
// interface: localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HTTPSOrLoopback parses raw and checks that it is an absolute https URL,
// or an http URL on a loopback host, with no userinfo and no fragment.
// It is the rule for metadata, endpoints and authorization URLs
// (RDR-1, URL-1): javascript:, data:, file: and every other scheme fail.
func HTTPSOrLoopback(role, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &Error{Role: role, URL: raw, Reason: "not a valid URL"}
	}
	fail := func(reason string) (*url.URL, error) {
		return nil, &Error{Role: role, URL: raw, Reason: reason}
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return fail("http is allowed only on loopback; use https")
		}
	case "":
		return fail("not an absolute URL")
	default:
		return fail(fmt.Sprintf("scheme %q is not allowed; only https (or http on loopback)", redact.Text(u.Scheme)))
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return fail("no host")
	}
	if u.User != nil {
		return fail("URLs with userinfo are not allowed")
	}
	if u.Fragment != "" {
		return fail("URLs with a fragment are not allowed")
	}
	return u, nil
}

// shown returns a URL as an error may show it: without its userinfo,
// which may hold a password or a token, and bounded in length.
func shown(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			raw = withoutUserinfo(u)
		}
	} else if i := strings.Index(raw, "://"); i >= 0 {
		// Unparsable: drop what could be userinfo, up to an '@' before
		// the path.
		rest := raw[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			raw = raw[:i+3] + "REDACTED@" + rest[at+1:]
		}
	}
	return redact.Text(raw)
}

// Origin returns scheme://host[:port] of u, lower-cased, with the default
// port removed.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// SameOrigin reports whether a and b share scheme, host and port
// (RFC 6454), comparing scheme and host case-insensitively.
func SameOrigin(a, b *url.URL) bool { return Origin(a) == Origin(b) }

// MaxRedirects bounds the redirects followed for one request.
const MaxRedirects = 5

// RedirectError reports a redirect the client refused to follow: to
// another origin, from https to http, to a URL that fails
// [HTTPSOrLoopback], or one too many.
type RedirectError struct {
	From   string // the URL that answered with the redirect
	To     string // where it pointed, with any password removed
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refusing redirect from %s to %s: %s", e.From, e.To, e.Reason)
}

// CheckRedirect is an http.Client CheckRedirect policy for every request
// made to a URL a server handed the client (SSRF-1): at most
// [MaxRedirects] redirects, each to the same origin, never from https to
// http, and each target an acceptable URL (no userinfo, https or loopback
// http). A redirect to another origin could otherwise carry a token
// request's body (a 307 resends it) or point discovery at an internal
// address.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	prev := via[len(via)-1].URL
	e := &RedirectError{From: withoutUserinfo(prev), To: withoutUserinfo(req.URL)}
	switch {
	case len(via) >= MaxRedirects:
		e.Reason = fmt.Sprintf("stopped after %d redirects (a redirect loop?)", len(via))
	case strings.EqualFold(prev.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https"):
		e.Reason = "it leaves https"
	case !SameOrigin(prev, req.URL):
		e.Reason = "it leads to another origin (" + Origin(req.URL) + ")"
	case req.URL.User != nil:
		e.Reason = "the target has userinfo"
	default:
		target := *req.URL
		target.Fragment, target.RawFragment = "", ""
		if _, err := HTTPSOrLoopback("redirect target", target.String()); err != nil {
			e.Reason = err.(*Error).Reason
		} else {
			return nil
		}
	}
	return e
}

// Client returns a copy of hc (nil means http.DefaultClient) whose
// redirects follow [CheckRedirect].
func Client(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = CheckRedirect
	return &c
}

// withoutUserinfo returns u as a string with any userinfo, which may hold
// a password or a token, replaced.
func withoutUserinfo(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

// CleanError removes the userinfo from the URL of a *url.Error in err's
// chain, and bounds it. http.Client puts a refused redirect's Location
// there as the server sent it, password included.
func CleanError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = shown(ue.URL)
	}
	return err
}
