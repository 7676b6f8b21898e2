package dpop_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/token"
)

// recorder is a server that records each request's proof and body and
// answers with answer (200 when nil).
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	proofs []string // "" for a request without one
	bodies []string
	answer func(w http.ResponseWriter, r *http.Request, n int)
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	rec := &recorder{answer: answer}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.proofs = append(rec.proofs, r.Header.Get("DPoP"))
		rec.bodies = append(rec.bodies, string(b))
		n := len(rec.proofs)
		rec.mu.Unlock()
		if rec.answer != nil {
			rec.answer(w, r, n)
			return
		}
		mockas.WriteJSON(w, 200, map[string]any{"ok": true})
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.proofs)
}

// claims decodes the n-th recorded proof (1-based) without verifying.
func (rec *recorder) claims(t *testing.T, n int) map[string]any {
	t.Helper()
	rec.mu.Lock()
	p := rec.proofs[n-1]
	rec.mu.Unlock()
	if p == "" {
		return nil
	}
	parts := strings.Split(p, ".")
	var c map[string]any
	b, _ := decodeSegment(parts[1])
	if err := jsonUnmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	body := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func resourceRequest(t *testing.T, u, scheme string) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	if scheme != "" {
		req.Header.Set("Authorization", scheme+" the-token")
	}
	return req
}

func do(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestWhichRequestsGetProofs: token requests and DPoP-scheme requests
// get proofs; discovery, registration and Bearer requests do not.
func TestWhichRequestsGetProofs(t *testing.T) {
	rec := newRecorder(t, nil)
	d := dpop.NewTransport(mustKey(t), nil)
	c := d.Client()

	do(t, c, tokenRequest(t, rec.URL+"/token?x=1"))
	if got := rec.claims(t, 1); got == nil || got["ath"] != nil || got["htm"] != "POST" || got["htu"] != rec.URL+"/token" {
		t.Errorf("token request proof %v", got)
	}

	do(t, c, resourceRequest(t, rec.URL+"/mcp", "DPoP"))
	if got := rec.claims(t, 2); got == nil || got["ath"] == nil {
		t.Errorf("DPoP resource request proof %v", got)
	}

	do(t, c, resourceRequest(t, rec.URL+"/mcp", "Bearer"))
	greq, _ := http.NewRequest(http.MethodGet, rec.URL+"/.well-known/oauth-authorization-server", nil)
	do(t, c, greq)
	reg, _ := http.NewRequest(http.MethodPost, rec.URL+"/register", strings.NewReader(`{"redirect_uris":[]}`))
	reg.Header.Set("Content-Type", "application/json")
	do(t, c, reg)
	form, _ := http.NewRequest(http.MethodPost, rec.URL+"/revoke", strings.NewReader("token=x"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(t, c, form)
	for n := 3; n <= 6; n++ {
		if got := rec.claims(t, n); got != nil {
			t.Errorf("request %d got a proof: %v", n, got)
		}
	}

	// A request that already carries a proof is left alone.
	own := resourceRequest(t, rec.URL+"/mcp", "DPoP")
	own.Header.Set("DPoP", "caller.made.proof")
	do(t, c, own)
	rec.mu.Lock()
	last := rec.proofs[len(rec.proofs)-1]
	rec.mu.Unlock()
	if last != "caller.made.proof" {
		t.Errorf("the caller's proof was replaced")
	}
}

// TestProofsVerify: the proofs a server receives check out.
func TestProofsVerify(t *testing.T) {
	k := mustKey(t)
	var errs []error
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := ""
		if s, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && s == "DPoP" {
			tok = v
		}
		p, err := checkProof(r, tok)
		if err == nil && p.JKT != k.Thumbprint() {
			err = fmt.Errorf("jkt %s", p.JKT)
		}
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	defer srv.Close()
	c := dpop.NewTransport(k, nil).Client()
	do(t, c, tokenRequest(t, srv.URL+"/token"))
	do(t, c, resourceRequest(t, srv.URL+"/mcp", "DPoP"))
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i+1, err)
		}
	}
}

// TestASNonce: 400 use_dpop_nonce at the token endpoint (RFC 9449 §8):
// one retry with the nonce and the same body; the nonce is kept for the
// next request.
func TestASNonce(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("DPoP-Nonce", "as-nonce-1")
			mockas.Error(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
			return
		}
		mockas.WriteJSON(w, 200, map[string]any{"access_token": "t", "token_type": "DPoP"})
	})
	d := dpop.NewTransport(mustKey(t), nil)
	if resp := do(t, d.Client(), tokenRequest(t, rec.URL+"/token")); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if rec.count() != 2 {
		t.Fatalf("%d requests, want 2", rec.count())
	}
	if rec.claims(t, 1)["nonce"] != nil || rec.claims(t, 2)["nonce"] != "as-nonce-1" {
		t.Errorf("nonces %v, %v", rec.claims(t, 1)["nonce"], rec.claims(t, 2)["nonce"])
	}
	if rec.claims(t, 1)["jti"] == rec.claims(t, 2)["jti"] {
		t.Error("the retry reused the proof")
	}
	if rec.bodies[0] != rec.bodies[1] || rec.bodies[1] == "" {
		t.Errorf("bodies %q, %q", rec.bodies[0], rec.bodies[1])
	}
	u, _ := url.Parse(rec.URL)
	if d.Nonce(u) != "as-nonce-1" {
		t.Errorf("nonce kept: %q", d.Nonce(u))
	}
	do(t, d.Client(), tokenRequest(t, rec.URL+"/token"))
	if rec.count() != 3 || rec.claims(t, 3)["nonce"] != "as-nonce-1" {
		t.Errorf("the next request did not start with the nonce")
	}
}

// TestRSNonce: 401 with a DPoP use_dpop_nonce challenge at the resource
// server (RFC 9449 §9).
func TestRSNonce(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("DPoP-Nonce", "rs-nonce-1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.WriteHeader(401)
			return
		}
		mockas.WriteJSON(w, 200, map[string]any{"ok": true})
	})
	d := dpop.NewTransport(mustKey(t), nil)
	if resp := do(t, d.Client(), resourceRequest(t, rec.URL+"/mcp", "DPoP")); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if rec.count() != 2 || rec.claims(t, 2)["nonce"] != "rs-nonce-1" || rec.claims(t, 2)["ath"] == nil {
		t.Errorf("%d requests; retry claims %v", rec.count(), rec.claims(t, 2))
	}
	if rec.bodies[0] != rec.bodies[1] {
		t.Error("the retry changed the body")
	}
}

// TestNonceLoopBounded: a server that asks for a new nonce every time
// gets one retry, and its error answer goes back to the caller.
func TestNonceLoopBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(t *testing.T, u string) *http.Request
		deny func(w http.ResponseWriter, n int)
		want int
	}{
		{"token endpoint", func(t *testing.T, u string) *http.Request { return tokenRequest(t, u) }, func(w http.ResponseWriter, n int) {
			w.Header().Set("DPoP-Nonce", fmt.Sprintf("n-%d", n))
			mockas.Error(w, 400, "use_dpop_nonce", "")
		}, 400},
		{"resource server", func(t *testing.T, u string) *http.Request { return resourceRequest(t, u, "DPoP") }, func(w http.ResponseWriter, n int) {
			w.Header().Set("DPoP-Nonce", fmt.Sprintf("n-%d", n))
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(401)
		}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, n int) { tc.deny(w, n) })
			resp := do(t, dpop.NewTransport(mustKey(t), nil).Client(), tc.req(t, rec.URL+"/x"))
			if resp.StatusCode != tc.want || rec.count() != 1+dpop.MaxNonceRetries {
				t.Errorf("status %d after %d requests", resp.StatusCode, rec.count())
			}
		})
	}
}

// TestNonceLoopTokenError: through token.Endpoint the loop ends in a
// token error naming use_dpop_nonce.
func TestNonceLoopTokenError(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("n-%d", n))
		mockas.Error(w, 400, "use_dpop_nonce", "")
	})
	ep := &token.Endpoint{URL: rec.URL + "/token", Client: dpop.NewTransport(mustKey(t), nil).Client()}
	_, err := ep.Do(context.Background(), url.Values{"grant_type": {"client_credentials"}}, nil)
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "use_dpop_nonce" {
		t.Fatalf("err = %v", err)
	}
}

// TestNoRetryWithoutNewNonce: no retry when the challenge brings no
// nonce, a malformed one, or the one just sent; nor for other errors.
func TestNoRetryWithoutNewNonce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nonce string
		code  string
	}{
		{"no nonce header", "", "use_dpop_nonce"},
		{"malformed nonce", `bad"nonce`, "use_dpop_nonce"},
		{"other error", "n-1", "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tc.nonce != "" {
					w.Header().Set("DPoP-Nonce", tc.nonce)
				}
				mockas.Error(w, 400, tc.code, "")
			})
			do(t, dpop.NewTransport(mustKey(t), nil).Client(), tokenRequest(t, rec.URL+"/token"))
			if rec.count() != 1 {
				t.Errorf("%d requests, want 1", rec.count())
			}
		})
	}
	// The server repeats the nonce the proof already carried.
	rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("DPoP-Nonce", "same")
		mockas.Error(w, 400, "use_dpop_nonce", "")
	})
	d := dpop.NewTransport(mustKey(t), nil)
	do(t, d.Client(), tokenRequest(t, rec.URL+"/token")) // learns "same", retries once
	do(t, d.Client(), tokenRequest(t, rec.URL+"/token")) // sends "same", gets "same": no retry
	if rec.count() != 3 {
		t.Errorf("%d requests, want 3", rec.count())
	}
}

// TestNoncePerOrigin: a nonce from one server is never sent to another,
// and a nonce in a successful response is used next time.
func TestNoncePerOrigin(t *testing.T) {
	a := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("DPoP-Nonce", "from-a")
		mockas.WriteJSON(w, 200, map[string]any{})
	})
	b := newRecorder(t, nil)
	d := dpop.NewTransport(mustKey(t), nil)
	do(t, d.Client(), resourceRequest(t, a.URL+"/mcp", "DPoP"))
	do(t, d.Client(), resourceRequest(t, b.URL+"/mcp", "DPoP"))
	do(t, d.Client(), resourceRequest(t, a.URL+"/mcp", "DPoP"))
	if b.claims(t, 1)["nonce"] != nil {
		t.Error("a's nonce went to b")
	}
	if a.claims(t, 2)["nonce"] != "from-a" {
		t.Errorf("a's second proof nonce %v", a.claims(t, 2)["nonce"])
	}
}

func TestMissingKey(t *testing.T) {
	rec := newRecorder(t, nil)
	c := (&dpop.Transport{}).Client()
	_, err := c.Do(tokenRequest(t, rec.URL+"/token"))
	if !errors.Is(err, dpop.ErrNoKey) {
		t.Errorf("err = %v, want ErrNoKey", err)
	}
	// Requests that need no proof still pass.
	req, _ := http.NewRequest(http.MethodGet, rec.URL+"/.well-known/x", nil)
	if resp := do(t, c, req); resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if rec.count() != 1 {
		t.Errorf("%d requests reached the server", rec.count())
	}
}

// TestBodyWithoutGetBody: a DPoP request whose body cannot be rewound is
// buffered, so a nonce retry resends it whole.
func TestBodyWithoutGetBody(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(401)
		}
	})
	req := resourceRequest(t, rec.URL+"/mcp", "DPoP")
	req.Body = io.NopCloser(strings.NewReader("payload"))
	req.GetBody = nil
	req.ContentLength = 7
	do(t, dpop.NewTransport(mustKey(t), nil).Client(), req)
	if rec.count() != 2 || rec.bodies[1] != "payload" {
		t.Errorf("%d requests, bodies %q", rec.count(), rec.bodies)
	}
}
