// Package dpop sender-constrains an MCP client's tokens with DPoP
// (RFC 9449; the MCP DPoP extension, SEP-1932,
// io.modelcontextprotocol/auth/dpop): the authorization server binds the
// tokens it issues to the client's key, and every request presenting them
// carries a fresh proof of possession of that key.
//
// A Transport adds the proofs. Use it both under the MCP requests and
// under the OAuth requests of an mcpauth.Transport:
//
//	d := dpop.NewTransport(key, nil)
//	cfg := mcpauth.Config{Base: d, HTTPClient: d.Client(), ...}
//
// It signs a proof for
//   - every token request (a form POST carrying grant_type): the
//     authorization code exchange, refresh, and the other grants, which
//     makes the authorization server issue DPoP-bound tokens (§5); and
//   - every request presenting a token with the DPoP scheme
//     (Authorization: DPoP, which mcpauth sends for a token whose
//     token_type is DPoP), with ath, the token's hash (§7).
//
// Other requests, such as metadata discovery or client registration, pass
// through untouched. When a server answers use_dpop_nonce with a
// DPoP-Nonce header (an authorization server with 400, §8; a resource
// server with 401, §9), the Transport retries once with the nonce, and
// keeps each origin's latest nonce for later proofs.
//
// The current text of the MCP extension adopts RFC 9449 as is, with no
// MCP-specific claims: an earlier draft's content_digest claim was
// dropped.
//
// A refresh token bound to the key is useless without it; LoadOrCreateKey
// keeps the key with the credentials in a store.Store.
package dpop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/internal/replay"
)

// Header is the request header that carries a proof (RFC 9449 §4.1).
const Header = "DPoP"

// MaxNonceRetries bounds the retries of one request on use_dpop_nonce: a
// server that keeps asking for a new nonce gets its error answer back
// instead of a loop.
const MaxNonceRetries = 1

// maxInspectBytes bounds how much of a body is read to classify a request
// or a response.
const maxInspectBytes = 64 << 10

// Transport is an http.RoundTripper that adds DPoP proofs. It is safe for
// concurrent use.
type Transport struct {
	// Key signs the proofs.
	Key *Key
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Now returns the current time, for iat; nil means time.Now.
	Now func() time.Time

	nonces nonces
}

// NewTransport returns a Transport signing with key over base (nil means
// http.DefaultTransport).
func NewTransport(key *Key, base http.RoundTripper) *Transport {
	return &Transport{Key: key, Base: base}
}

// Client returns an *http.Client over t with a 30 s timeout, for
// mcpauth.Config.HTTPClient.
func (t *Transport) Client() *http.Client {
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Nonce returns the latest nonce the origin of u supplied, or "".
func (t *Transport) Nonce(u *url.URL) string { return t.nonces.get(origin(u)) }

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	accessToken, sign := t.classify(req)
	if !sign {
		resp, err := t.base().RoundTrip(req)
		if err == nil {
			t.nonces.set(origin(req.URL), resp.Header.Get(NonceHeader))
		}
		return resp, err
	}
	if t.Key == nil {
		closeBody(req)
		return nil, fmt.Errorf("dpop: %w", ErrNoKey)
	}
	req, err := replay.Request(req)
	if err != nil {
		return nil, fmt.Errorf("dpop: reading the request body: %w", err)
	}
	o := origin(req.URL)
	for attempt := 0; ; attempt++ {
		nonce := t.nonces.get(o)
		proof, err := Proof(t.Key, ProofRequest{Method: req.Method, URL: req.URL, AccessToken: accessToken, Nonce: nonce, Time: t.now()})
		if err != nil {
			closeBody(req)
			return nil, err
		}
		r := req.Clone(req.Context())
		if attempt > 0 && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, fmt.Errorf("dpop: rewinding the request body: %w", err)
			}
		}
		r.Header.Set(Header, proof)
		resp, err := t.base().RoundTrip(r)
		if err != nil {
			return nil, err
		}
		fresh := resp.Header.Get(NonceHeader)
		recorded := t.nonces.set(o, fresh)
		if attempt >= MaxNonceRetries || !recorded || fresh == nonce || !asksForNonce(resp) {
			return resp, nil
		}
		drain(resp)
	}
}

// classify tells whether req gets a proof, and with which access token:
// a request presenting a token with the DPoP scheme, or a token request.
// A request that already carries a proof is left alone.
func (t *Transport) classify(req *http.Request) (accessToken string, sign bool) {
	if req.Header.Get(Header) != "" {
		return "", false
	}
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok, true
		}
	}
	return "", isTokenRequest(req)
}

// isTokenRequest reports a POST with a form body that has grant_type
// (RFC 6749 §3.2). A body that cannot be read again (no GetBody) is not
// inspected, and the request passes through.
func isTokenRequest(req *http.Request) bool {
	if req.Method != http.MethodPost || req.GetBody == nil {
		return false
	}
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return false
	}
	body, err := req.GetBody()
	if err != nil {
		return false
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxInspectBytes))
	if err != nil {
		return false
	}
	form, err := url.ParseQuery(string(b))
	return err == nil && form.Get("grant_type") != ""
}

// asksForNonce reports a use_dpop_nonce error: in a 400 token error
// response (RFC 9449 §8) or a 401 DPoP challenge (§9).
func asksForNonce(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		cs, _ := discovery.ParseResponse(resp)
		for _, c := range cs {
			if c.HasScheme("DPoP") && c.Error() == "use_dpop_nonce" {
				return true
			}
		}
		return false
	case http.StatusBadRequest:
		var body struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(peek(resp), &body) == nil && body.Error == "use_dpop_nonce"
	}
	return false
}

// peek returns the start of resp's body, leaving the body readable from
// its beginning.
func peek(resp *http.Response) []byte {
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, maxInspectBytes))
	resp.Body = &rewound{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), Closer: resp.Body}
	return buf
}

type rewound struct {
	io.Reader
	io.Closer
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxInspectBytes))
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

var _ http.RoundTripper = (*Transport)(nil)
