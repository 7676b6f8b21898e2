package token_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/token"
)

// TestDo_SSRF1_RedirectsStayOnOrigin: a token request follows a redirect
// within the endpoint's origin, but not to another origin, where a 307
// would resend the code and verifier; whatever the caller's
// CheckRedirect.
func TestDo_SSRF1_RedirectsStayOnOrigin(t *testing.T) {
	srv, ep := tokenServer(t, http.StatusOK, `{"access_token":"at","token_type":"Bearer"}`)
	other := oauthtest.NewServer(t)
	srv.Handle("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
	})
	ep.URL = srv.URL + "/moved"
	ep.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	if _, err := ep.Exchange(context.Background(), "the-code", "the-verifier", "", "", nil); err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	srv.Handle("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/token?leak=the-code", http.StatusTemporaryRedirect)
	})
	_, err := ep.Exchange(context.Background(), "the-code", "the-verifier", "", "", nil)
	var re *urlcheck.RedirectError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "another origin") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "the-code") {
		t.Errorf("the redirect target's copy of the code is shown: %v", err)
	}
	if n := other.Total(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
}

// TestDo_Bounded: every token and revocation request carries a deadline,
// even when neither the caller's context nor its http.Client has one; the
// configured Timeout ends a response that never finishes.
func TestDo_Bounded(t *testing.T) {
	srv, ep := tokenServer(t, http.StatusOK, `{"access_token":"at","token_type":"Bearer"}`)
	d := &oauthtest.Deadlines{}
	ep.Client = &http.Client{Transport: d}
	if _, err := ep.Exchange(context.Background(), "c", "v", "", "", nil); err != nil {
		t.Fatal(err)
	}
	srv.Handle("/revoke", func(w http.ResponseWriter, _ *http.Request) {})
	if err := token.Revoke(context.Background(), ep.Client, srv.URL+"/revoke", nil, "at", "access_token"); err != nil {
		t.Fatal(err)
	}
	if n, all := d.Bounded(); n != 2 || !all {
		t.Errorf("%d requests, all with a deadline: %v", n, all)
	}
	srv.Handle("/token", oauthtest.Trickle(`{"access_token":`))
	ep.Timeout = 100 * time.Millisecond
	if _, err := ep.Exchange(context.Background(), "c", "v", "", "", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("trickling response: %v", err)
	}
}

// TestDo_GiantResponse: a response is read to 1 MiB and no further.
func TestDo_GiantResponse(t *testing.T) {
	srv, ep := tokenServer(t, http.StatusOK, ``)
	g := &oauthtest.Giant{Prefix: `{"access_token":"`, Size: oauthtest.GiB}
	srv.Handle("/token", g.ServeHTTP)
	_, err := ep.Exchange(context.Background(), "c", "v", "", "", nil)
	var te *token.Error
	if !errors.As(err, &te) || !strings.Contains(te.Reason, "larger than 1 MiB") {
		t.Fatalf("err = %v", err)
	}
	g2 := &oauthtest.Giant{Status: http.StatusBadRequest, Prefix: `{"error":"`, Size: oauthtest.GiB}
	srv.Handle("/token", g2.ServeHTTP)
	if _, err := ep.Exchange(context.Background(), "c", "v", "", "", nil); !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
}

// TestDo_ErrorsHoldNoCredentials: an error response that echoes the
// request (code, verifier, client secret, refresh token, assertion) is
// reported without them; its text is bounded and safe to print.
func TestDo_ErrorsHoldNoCredentials(t *testing.T) {
	srv, ep := tokenServer(t, http.StatusOK, ``)
	srv.Handle("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		(&oauthtest.Error{Code: "invalid_grant", Description: "got " + r.PostForm.Encode() + " auth " + r.Header.Get("Authorization") +
			" jwt eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln \x1b[2J\u202e" + strings.Repeat("x", 5000)}).Write(w)
	})
	ep.Auth = token.SecretBasic{ClientID: "cid", Secret: "the secret+/="}
	_, err := ep.Exchange(context.Background(), "CODE-1234", "VERIFIER-1234", "", "", nil)
	if err == nil {
		t.Fatal("no error")
	}
	_, err2 := ep.Refresh(context.Background(), &token.Token{Token: oauth2.Token{RefreshToken: "REFRESH-1234"}}, "")
	for _, e := range []error{err, err2} {
		msg := e.Error()
		for _, s := range []string{"CODE-1234", "VERIFIER-1234", "the secret", url.QueryEscape("the secret+/="), "REFRESH-1234", "eyJ", "\x1b", "\u202e"} {
			if strings.Contains(msg, s) {
				t.Errorf("the error shows %q: %s", s, msg)
			}
		}
		if len(msg) > 1024 {
			t.Errorf("error of %d bytes", len(msg))
		}
		if !strings.Contains(msg, "[redacted]") || !strings.Contains(msg, "invalid_grant") {
			t.Errorf("error %s", msg)
		}
	}
}

// TestToken_NeverPrinted: however a token is formatted or logged, its
// access and refresh tokens are not shown; nor in a panic's value.
func TestToken_NeverPrinted(t *testing.T) {
	tok := &token.Token{Token: oauth2.Token{AccessToken: "AT-9f8e7d", RefreshToken: "RT-1a2b3c", TokenType: "Bearer", Expiry: t0}, Scope: []string{"a"}, Issuer: "https://as.example"}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		out = append(out, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, *tok))
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("token", "tok", tok, "value", *tok)
	}
	out = append(out, buf.String())
	func() {
		defer func() { out = append(out, fmt.Sprint(recover())) }()
		panic(tok)
	}()
	for _, s := range out {
		if strings.Contains(s, "AT-9f8e7d") || strings.Contains(s, "RT-1a2b3c") {
			t.Errorf("token shown: %s", s)
		}
	}
	if !strings.Contains(out[0], "https://as.example") || !strings.Contains(out[0], "[redacted]") {
		t.Errorf("String() = %s", out[0])
	}
}
