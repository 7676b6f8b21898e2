package authserver

import (
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// redirectAllowed reports whether uri may receive the authorization
// response: an exact match with a registered redirect URI (RFC 6749 §3.1.2.3,
// OAuth 2.1 §2.3.1), or, for a native client, a loopback http URI that
// differs from a registered one only in its port (RFC 8252 §7.3). Scheme,
// host, path and query must match.
//
// op's own check (ValidateAuthReqRedirectURI) also ignores the port for
// native clients but compares only path and query, so it would let
// http://localhost:1/cb stand in for a registered http://127.0.0.1:2/cb; this
// check runs first and is stricter.
func redirectAllowed(c *client, uri string) bool {
	if slices.Contains(c.redirectURIs, uri) {
		return true
	}
	if c.applicationType != op.ApplicationTypeNative {
		return false
	}
	u, ok := loopbackHTTP(uri)
	if !ok {
		return false
	}
	for _, reg := range c.redirectURIs {
		r, ok := loopbackHTTP(reg)
		if ok && strings.EqualFold(r.Hostname(), u.Hostname()) && r.Path == u.Path && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// loopbackHTTP parses an http URL on a loopback host, without credentials
// or fragment.
func loopbackHTTP(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, false
	}
	return u, isLoopbackHost(u.Hostname())
}
