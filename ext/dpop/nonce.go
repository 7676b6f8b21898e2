package dpop

import (
	"net/url"
	"strings"
	"sync"
)

// NonceHeader carries a server-provided nonce (RFC 9449 §8, §9).
const NonceHeader = "DPoP-Nonce"

// maxNonceLen bounds a stored nonce; RFC 9449 §8.1 allows any
// non-empty string of visible ASCII.
const maxNonceLen = 1024

// nonces keeps the latest nonce each origin supplied: an authorization
// server and a resource server each have their own (RFC 9449 §8, §9).
type nonces struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *nonces) get(origin string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[origin]
}

// set records v for origin, if it is a well-formed nonce; it reports
// whether v was recorded.
func (n *nonces) set(origin, v string) bool {
	if !validNonce(v) {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = make(map[string]string)
	}
	n.m[origin] = v
	return true
}

// validNonce checks the nonce syntax of RFC 9449 §8.1: 1*NQCHAR, visible
// ASCII except '"' and '\'.
func validNonce(v string) bool {
	if v == "" || len(v) > maxNonceLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// origin returns scheme://host[:port] of u, lower-cased.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}
