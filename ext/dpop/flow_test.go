package dpop_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/ext/clientcredentials"
	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/store"
)

// dpopServer is a mockas server that binds the tokens it issues to the
// proof's key (RFC 9449 §5, §6) and checks every MCP request's proof,
// optionally asking for nonces at both servers.
type dpopServer struct {
	*mockas.Server
	mu       sync.Mutex
	bound    map[string]string // access or refresh token → jkt
	failures []string
	grants   []string // grant_type of each token request
	// nonce, when set, is required in proofs at both servers.
	nonce        string
	refreshToken bool
}

func newDPoPServer(t *testing.T, nonce string) *dpopServer {
	d := &dpopServer{Server: mockas.New(t), bound: map[string]string{}, nonce: nonce}
	d.Metadata = map[string]any{"dpop_signing_alg_values_supported": []string{"ES256"}}
	d.Token = d.token
	d.Resource = d.resource
	t.Cleanup(func() {
		for _, f := range d.failures {
			t.Error(f)
		}
	})
	return d
}

func (d *dpopServer) fail(format string, args ...any) {
	d.mu.Lock()
	d.failures = append(d.failures, fmt.Sprintf(format, args...))
	d.mu.Unlock()
}

func (d *dpopServer) token(w http.ResponseWriter, r *http.Request) {
	f := mockas.Form(r)
	d.mu.Lock()
	d.grants = append(d.grants, f.Get("grant_type"))
	d.mu.Unlock()
	p, err := checkProof(r, "")
	if err != nil {
		d.fail("token request (%s) proof: %v", f.Get("grant_type"), err)
		mockas.Error(w, 400, "invalid_dpop_proof", err.Error())
		return
	}
	if d.nonce != "" && p.Nonce != d.nonce {
		w.Header().Set("DPoP-Nonce", d.nonce)
		mockas.Error(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
		return
	}
	if f.Get("grant_type") == "refresh_token" {
		d.mu.Lock()
		jkt := d.bound[f.Get("refresh_token")]
		d.mu.Unlock()
		if jkt != p.JKT {
			mockas.Error(w, 400, "invalid_grant", "refresh token bound to another key")
			return
		}
	}
	fields := map[string]any{}
	rt := ""
	if d.refreshToken {
		rt = fmt.Sprintf("rt-%d", time.Now().UnixNano())
		fields["refresh_token"] = rt
	}
	at := d.Issue(w, "DPoP", fields)
	d.mu.Lock()
	d.bound[at] = p.JKT
	if rt != "" {
		d.bound[rt] = p.JKT
	}
	d.mu.Unlock()
}

func (d *dpopServer) resource(w http.ResponseWriter, r *http.Request, tok string) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "DPoP" {
		d.fail("MCP request with scheme %q", scheme)
	}
	p, err := checkProof(r, tok)
	if err != nil {
		d.fail("MCP request proof: %v", err)
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
		w.WriteHeader(401)
		return true
	}
	d.mu.Lock()
	jkt := d.bound[tok]
	d.mu.Unlock()
	if p.JKT != jkt {
		d.fail("proof key %s, token bound to %s", p.JKT, jkt)
	}
	if d.nonce != "" && p.Nonce != "rs-"+d.nonce {
		w.Header().Set("DPoP-Nonce", "rs-"+d.nonce)
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		w.WriteHeader(401)
		return true
	}
	return false
}

func post(t *testing.T, tr *mcpauth.Transport, u string) *http.Response {
	t.Helper()
	resp, err := tr.Client().Post(u, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAuthorizationCodeFlow: the authorization code flow, with proofs at
// the token endpoint and on every MCP request, and nonces demanded by
// both servers.
func TestAuthorizationCodeFlow(t *testing.T) {
	for _, nonce := range []string{"", "server-nonce"} {
		t.Run("nonce="+nonce, func(t *testing.T) {
			s := newDPoPServer(t, nonce)
			d := dpop.NewTransport(mustKey(t), nil)
			tr, err := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
				Base:          d,
				HTTPClient:    d.Client(),
				Step:          &authorize.Loopback{Open: authorize.HeadlessOpener(nil)},
				PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "public-client"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if resp := post(t, tr, s.MCPURL()); resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			tok, err := tr.Token(context.Background())
			if err != nil || tok.TokenType != "DPoP" {
				t.Fatalf("token %v, %v", tok, err)
			}
			wantTokenCalls := 1
			if nonce != "" {
				wantTokenCalls = 2 // the nonce retry
			}
			if n := s.TokenCalls(); n != wantTokenCalls {
				t.Errorf("%d token requests, want %d", n, wantTokenCalls)
			}
		})
	}
}

// TestClientCredentialsFlow: DPoP with a grant that needs no person.
func TestClientCredentialsFlow(t *testing.T) {
	s := newDPoPServer(t, "n")
	d := dpop.NewTransport(mustKey(t), nil)
	tr, err := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
		Base: d, HTTPClient: d.Client(),
		Grant:         clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "s"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp := post(t, tr, s.MCPURL()); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestResourceNonceLoopDoesNotReauthorize: a resource server that keeps
// asking for a new nonce gets its 401 back after the bounded retry; the
// transport does not treat it as a reason to authorize again.
func TestResourceNonceLoopDoesNotReauthorize(t *testing.T) {
	s := newDPoPServer(t, "")
	var n int
	var mu sync.Mutex
	s.Resource = func(w http.ResponseWriter, r *http.Request, tok string) bool {
		mu.Lock()
		n++
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("nonce-%d", n))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
		w.WriteHeader(401)
		return true
	}
	d := dpop.NewTransport(mustKey(t), nil)
	tr, _ := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
		Base: d, HTTPClient: d.Client(),
		Grant:         clientcredentials.Grant{},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "s"}},
	})
	if resp := post(t, tr, s.MCPURL()); resp.StatusCode != 401 {
		t.Fatalf("status %d, want the server's 401", resp.StatusCode)
	}
	if s.TokenCalls() != 1 {
		t.Errorf("%d token requests: the nonce loop triggered authorizations", s.TokenCalls())
	}
	// The tokenless request, then the first proof and its one retry.
	if got := s.MCPRequests(); got != 3 {
		t.Errorf("%d MCP requests, want 3", got)
	}
}

// TestRefreshAfterRestart: the key kept in the store with the
// credentials lets a new process refresh a DPoP-bound refresh token.
func TestRefreshAfterRestart(t *testing.T) {
	s := newDPoPServer(t, "")
	s.refreshToken = true
	shared := store.NewMemory() // stands for a file or keyring store
	ctx := context.Background()

	start := func(now time.Time) (*mcpauth.Transport, *dpop.Key) {
		key, st, err := dpop.LoadOrCreateKey(ctx, shared, s.MCPURL())
		if err != nil {
			t.Fatal(err)
		}
		d := dpop.NewTransport(key, nil)
		tr, err := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
			Base: d, HTTPClient: d.Client(), Store: st,
			Grant:         clientcredentials.Grant{},
			PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "svc", Secret: "s"}},
			Now:           func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		return tr, key
	}

	tr1, key1 := start(time.Now())
	if resp := post(t, tr1, s.MCPURL()); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Two hours later the access token has expired; a new process loads
	// the same key and refreshes.
	tr2, key2 := start(time.Now().Add(2 * time.Hour))
	if key2.Thumbprint() != key1.Thumbprint() {
		t.Fatal("the restarted process has another key")
	}
	if _, err := tr2.Token(ctx); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	s.mu.Lock()
	grants := strings.Join(s.grants, ",")
	s.mu.Unlock()
	if grants != "client_credentials,refresh_token" {
		t.Errorf("token requests %s", grants)
	}
}
