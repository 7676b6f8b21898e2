// Package urlcheck holds the URL rules every URL a server hands the client
// must pass: RDR-1, URL-1 and the https-or-loopback rule of OAuth 2.1 §1.5.
package urlcheck

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Error explains why a URL was refused. It names the URL's role, such as
// "authorization_endpoint", so the user can tell which document is wrong.
type Error struct {
	Role   string
	URL    string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("refusing %s %q: %s", e.Role, e.URL, e.Reason)
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
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return nil, &Error{Role: role, URL: raw, Reason: "http is allowed only on loopback; use https"}
		}
	case "":
		return nil, &Error{Role: role, URL: raw, Reason: "not an absolute URL"}
	default:
		return nil, &Error{Role: role, URL: raw, Reason: fmt.Sprintf("scheme %q is not allowed; only https (or http on loopback)", u.Scheme)}
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, &Error{Role: role, URL: raw, Reason: "no host"}
	}
	if u.User != nil {
		return nil, &Error{Role: role, URL: raw, Reason: "URLs with userinfo are not allowed"}
	}
	if u.Fragment != "" {
		return nil, &Error{Role: role, URL: raw, Reason: "URLs with a fragment are not allowed"}
	}
	return u, nil
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
