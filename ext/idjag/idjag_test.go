package idjag_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/ext/idjag"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/token"
)

const (
	idToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl" // the user's ID Token
	theJAG  = "eyJ0eXAiOiJvYXV0aC1pZC1qYWcrand0In0.eyJzdWIiOiJ1c2VyLTEifQ.amFn"
)

// idp is a mock enterprise IdP on 127.0.0.1.
type idp struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
	// answer writes the response; nil issues theJAG.
	answer func(w http.ResponseWriter, form url.Values)
}

func newIdP(t *testing.T) *idp {
	p := &idp{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			mockas.WriteJSON(w, 200, map[string]any{"issuer": p.URL, "token_endpoint": p.URL + "/oauth2/token"})
		case "/oauth2/token":
			_ = r.ParseForm()
			f := mockas.Form(r)
			p.mu.Lock()
			p.forms = append(p.forms, f)
			p.mu.Unlock()
			if p.answer != nil {
				p.answer(w, f)
				return
			}
			mockas.WriteJSON(w, 200, map[string]any{
				"access_token": theJAG, "issued_token_type": idjag.TokenTypeIDJAG, "token_type": "N_A", "expires_in": 300,
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *idp) last() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.forms) == 0 {
		return nil
	}
	return p.forms[len(p.forms)-1]
}

func TestExchange(t *testing.T) {
	p := newIdP(t)
	x := &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token", Auth: token.SecretPost{ClientID: "idp-client", Secret: "idp-secret"}}
	a, err := x.Exchange(context.Background(), idjag.ExchangeRequest{
		SubjectToken: idToken, Audience: "https://auth.chat.example/", Resource: "https://mcp.chat.example/", Scopes: []string{"chat.read", "chat.history"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.JWT != theJAG || a.Expiry.IsZero() {
		t.Errorf("assertion %+v", a)
	}
	want := url.Values{
		"grant_type":           {idjag.GrantTypeTokenExchange},
		"requested_token_type": {idjag.TokenTypeIDJAG},
		"audience":             {"https://auth.chat.example/"},
		"resource":             {"https://mcp.chat.example/"},
		"scope":                {"chat.read chat.history"},
		"subject_token":        {idToken},
		"subject_token_type":   {idjag.TokenTypeIDToken},
		"client_id":            {"idp-client"},
		"client_secret":        {"idp-secret"},
	}
	if got := p.last(); got.Encode() != want.Encode() {
		t.Errorf("exchange form\n got %v\nwant %v", got, want)
	}
}

func TestExchangeDiscoversEndpoint(t *testing.T) {
	p := newIdP(t)
	x := &idjag.IdP{Issuer: p.URL, Auth: token.None{ClientID: "idp-client"}}
	if _, err := x.Exchange(context.Background(), idjag.ExchangeRequest{SubjectToken: idToken, SubjectTokenType: idjag.TokenTypeSAML2, Audience: "https://as", Resource: "https://rs"}); err != nil {
		t.Fatal(err)
	}
	if f := p.last(); f.Get("subject_token_type") != idjag.TokenTypeSAML2 || f.Get("client_id") != "idp-client" || f.Has("scope") {
		t.Errorf("form %v", f)
	}
}

func TestExchangeRefused(t *testing.T) {
	p := newIdP(t)
	p.answer = func(w http.ResponseWriter, _ url.Values) {
		mockas.Error(w, 400, "invalid_grant", "Audience validation failed")
	}
	x := &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token"}
	_, err := x.Exchange(context.Background(), idjag.ExchangeRequest{SubjectToken: idToken, Audience: "https://as", Resource: "https://rs"})
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "invalid_grant" || te.StatusCode != 400 {
		t.Fatalf("err = %v, want a token.Error invalid_grant", err)
	}
	if !strings.Contains(err.Error(), "refused the token exchange") || strings.Contains(err.Error(), idToken) {
		t.Errorf("message %q", err)
	}
}

func TestExchangeBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, _ url.Values)
		want   string
	}{
		{"wrong issued_token_type", func(w http.ResponseWriter, _ url.Values) {
			mockas.WriteJSON(w, 200, map[string]any{"access_token": theJAG, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer"})
		}, "not an ID-JAG"},
		{"no access_token", func(w http.ResponseWriter, _ url.Values) {
			mockas.WriteJSON(w, 200, map[string]any{"issued_token_type": idjag.TokenTypeIDJAG, "token_type": "N_A"})
		}, "lacks access_token"},
		{"not JSON", func(w http.ResponseWriter, _ url.Values) { _, _ = io.WriteString(w, "<html>") }, "not a JSON"},
		{"error page", func(w http.ResponseWriter, _ url.Values) { http.Error(w, "down", http.StatusServiceUnavailable) }, "not an OAuth error object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIdP(t)
			p.answer = tc.answer
			x := &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token"}
			_, err := x.Exchange(context.Background(), idjag.ExchangeRequest{SubjectToken: idToken, Audience: "https://as", Resource: "https://rs"})
			var te *token.Error
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a token.Error saying %q", err, tc.want)
			}
		})
	}
}

func TestExchangeBadInput(t *testing.T) {
	ctx := context.Background()
	ok := idjag.ExchangeRequest{SubjectToken: idToken, Audience: "https://as", Resource: "https://rs"}
	for _, tc := range []struct {
		name string
		x    *idjag.IdP
		r    func(idjag.ExchangeRequest) idjag.ExchangeRequest
		want string
	}{
		{"no subject token", &idjag.IdP{TokenEndpoint: "https://idp/token"}, func(r idjag.ExchangeRequest) idjag.ExchangeRequest { r.SubjectToken = ""; return r }, "no subject token"},
		{"no audience", &idjag.IdP{TokenEndpoint: "https://idp/token"}, func(r idjag.ExchangeRequest) idjag.ExchangeRequest { r.Audience = ""; return r }, "no audience"},
		{"no resource", &idjag.IdP{TokenEndpoint: "https://idp/token"}, func(r idjag.ExchangeRequest) idjag.ExchangeRequest { r.Resource = ""; return r }, "no resource"},
		{"no endpoint", &idjag.IdP{}, func(r idjag.ExchangeRequest) idjag.ExchangeRequest { return r }, "neither"},
		{"http endpoint off loopback", &idjag.IdP{TokenEndpoint: "http://idp.example/token"}, func(r idjag.ExchangeRequest) idjag.ExchangeRequest { return r }, "only on loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.x.Exchange(ctx, tc.r(ok))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestGrant: the whole SEP-990 flow through the transport: the exchange
// at the IdP with audience the AS issuer, then the JWT bearer grant at
// the AS with the client's secret, then the MCP request.
func TestGrant(t *testing.T) {
	p := newIdP(t)
	s := mockas.New(t)
	s.Metadata = map[string]any{"grant_types_supported": []string{idjag.GrantTypeJWTBearer}}
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		f := mockas.Form(r)
		id, secret, _ := r.BasicAuth()
		switch {
		case id != "mcp-client" || secret != "mcp-secret":
			mockas.Error(w, 401, "invalid_client", "")
		case f.Get("grant_type") != idjag.GrantTypeJWTBearer || f.Get("assertion") != theJAG:
			mockas.Error(w, 400, "invalid_grant", "")
		case f.Get("resource") != s.MCPURL():
			mockas.Error(w, 400, "invalid_target", "")
		default:
			s.Issue(w, "Bearer", nil)
		}
	}
	g := &idjag.Grant{
		IdP:          &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token", Auth: token.None{ClientID: "idp-client"}},
		SubjectToken: func(context.Context) (string, error) { return idToken, nil },
	}
	tr, err := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
		Grant:         g,
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "mcp-client", Secret: "mcp-secret"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.Client().Post(s.MCPURL(), "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if f := p.last(); f.Get("audience") != s.Issuer() || f.Get("resource") != s.MCPURL() {
		t.Errorf("exchange audience %q resource %q, want the AS issuer and the MCP server", f.Get("audience"), f.Get("resource"))
	}
}

// TestGrantRefusedExchange: the IdP's refusal reaches the caller and the
// AS is never asked.
func TestGrantRefusedExchange(t *testing.T) {
	p := newIdP(t)
	p.answer = func(w http.ResponseWriter, _ url.Values) { mockas.Error(w, 400, "invalid_grant", "ID Token expired") }
	s := mockas.New(t)
	tr, _ := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
		Grant: &idjag.Grant{
			IdP:          &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token"},
			SubjectToken: func(context.Context) (string, error) { return idToken, nil },
		},
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {ClientID: "c", Secret: "s"}},
	})
	_, err := tr.Client().Post(s.MCPURL(), "application/json", strings.NewReader(`{}`))
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "invalid_grant" || te.Description != "ID Token expired" {
		t.Fatalf("err = %v", err)
	}
	if s.TokenCalls() != 0 {
		t.Errorf("the AS got %d token requests", s.TokenCalls())
	}
}

func TestGrantBadConfig(t *testing.T) {
	ctx := context.Background()
	r := mcpauth.GrantRequest{}
	if _, err := (&idjag.Grant{}).Token(ctx, r); err == nil || !strings.Contains(err.Error(), "no IdP") {
		t.Errorf("no IdP: %v", err)
	}
	if _, err := (&idjag.Grant{IdP: &idjag.IdP{}}).Token(ctx, r); err == nil || !strings.Contains(err.Error(), "no subject token source") {
		t.Errorf("no subject: %v", err)
	}
	g := &idjag.Grant{IdP: &idjag.IdP{}, SubjectToken: func(context.Context) (string, error) { return "", errors.New("not signed in") }}
	r.Endpoint, r.Server = &token.Endpoint{}, nil
	if _, err := g.Token(ctx, r); err == nil || !strings.Contains(err.Error(), "no authorization server") {
		t.Errorf("no server: %v", err)
	}
}

// A hostile IdP: a 307 to another origin would resend the user's ID Token
// there, so it is refused and the decoy hears nothing; an error that
// echoes the ID Token or the client secret shows neither.
func TestExchangeHostileIdP(t *testing.T) {
	var decoyHits atomic.Int32
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { decoyHits.Add(1) }))
	t.Cleanup(decoy.Close)

	p := newIdP(t)
	p.answer = func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Location", decoy.URL+"/steal")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}
	x := &idjag.IdP{TokenEndpoint: p.URL + "/oauth2/token", Auth: token.SecretPost{ClientID: "idp-client", Secret: "idp-secret"}}
	req := idjag.ExchangeRequest{SubjectToken: idToken, Audience: "https://as", Resource: "https://rs"}
	_, err := x.Exchange(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("err = %v, want the cross-origin redirect refused", err)
	}
	if n := decoyHits.Load(); n != 0 {
		t.Errorf("the decoy origin got %d requests", n)
	}

	p.answer = func(w http.ResponseWriter, f url.Values) {
		mockas.Error(w, 400, "invalid_grant", "bad subject_token "+f.Get("subject_token")+" for "+f.Get("client_secret"))
	}
	_, err = x.Exchange(context.Background(), req)
	var te *token.Error
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if strings.Contains(err.Error(), idToken) || strings.Contains(err.Error(), "idp-secret") {
		t.Errorf("the error repeats a credential: %v", err)
	}
}
