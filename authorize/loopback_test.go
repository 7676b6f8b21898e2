package authorize_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/internal/oauthtest"
)

// testTimeout is a safety net so that a broken test fails instead of
// hanging; no assertion depends on it.
const testTimeout = time.Minute

type page struct {
	status int
	body   string
}

// redirectOpener returns an Open function that plays the authorization
// server and the browser: it answers the authorization URL by visiting the
// redirect URI with the query respond builds from the request's query,
// and sends the page the loopback listener showed on pages. Like a
// browser, it ignores the client's cancellation.
func redirectOpener(respond func(req url.Values) url.Values) (open func(context.Context, string) error, pages chan page) {
	pages = make(chan page, 4)
	return func(ctx context.Context, authURL string) error {
		ctx = context.WithoutCancel(ctx)
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.Get("redirect_uri")+"?"+respond(q).Encode(), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pages <- page{resp.StatusCode, string(b)}
		return nil
	}, pages
}

func newRequest(session authorize.Session, iss string, advertised bool) authorize.Request {
	r := authorize.New()
	r.Endpoint = "http://127.0.0.1:1/authorize"
	r.ClientID = "c"
	r.RedirectURI = session.RedirectURI()
	r.Issuer = iss
	r.IssParameterSupported = advertised
	return r
}

// TestLoopback_EndToEnd: with the fake authorization server and browser,
// the listener receives the redirect, verifies it and returns the code;
// the page says so.
func TestLoopback_EndToEnd(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{})
	browser := &oauthtest.Browser{}
	l := &authorize.Loopback{Open: browser.Open, Timeout: testTimeout}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	redirect, _ := url.Parse(s.RedirectURI())
	if redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" || redirect.Port() == "" {
		t.Errorf("RedirectURI %q", s.RedirectURI())
	}
	r := authorize.New()
	r.Endpoint, r.ClientID, r.RedirectURI = as.URL+as.AuthorizePath, "c", s.RedirectURI()
	r.Issuer, r.IssParameterSupported = as.Issuer, true
	authURL, err := r.URL()
	if err != nil {
		t.Fatal(err)
	}
	code, err := s.Wait(context.Background(), authURL, r.Verify)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code, oauthtest.CodeMarker) {
		t.Errorf("code %q", code)
	}
	browser.Wait()
	pages := browser.Pages()
	if len(pages) != 1 || pages[0].Status != 200 || !strings.Contains(pages[0].Body, "Authorized") || strings.Contains(pages[0].Body, code) {
		t.Errorf("pages %+v", pages)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestLoopback_ISS1_MismatchHidesError: a redirect whose iss does not
// match is refused, and the error and error_description it carries appear
// neither in the returned error nor on the page.
func TestLoopback_ISS1_MismatchHidesError(t *testing.T) {
	for name, iss := range map[string]string{
		"trailing slash": issuer + "/",
		"case":           strings.ToUpper(issuer),
		"script":         `<script>alert(1)</script>`,
	} {
		t.Run(name, func(t *testing.T) {
			open, pages := redirectOpener(func(q url.Values) url.Values {
				return url.Values{"state": {q.Get("state")}, "iss": {iss}, "error": {"access_denied"}, "error_description": {secretDesc},
					"code": {"CODE-LEAK"}}
			})
			l := &authorize.Loopback{Timeout: testTimeout, Open: open}
			s, err := l.Start(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r := newRequest(s, issuer, true)
			authURL, _ := r.URL()
			code, err := s.Wait(context.Background(), authURL, r.Verify)
			var im *authorize.IssuerMismatchError
			if !errors.As(err, &im) || code != "" {
				t.Fatalf("Wait = %q, %v; want *IssuerMismatchError", code, err)
			}
			got := <-pages
			for _, leak := range []string{secretDesc, "access_denied", "CODE-LEAK"} {
				if strings.Contains(err.Error(), leak) || strings.Contains(got.body, leak) {
					t.Errorf("%q shown (error %q, page %q)", leak, err, got.body)
				}
			}
			if got.status != http.StatusBadRequest || strings.Contains(got.body, "<script>") {
				t.Errorf("page %d %q", got.status, got.body)
			}
		})
	}
}

// TestLoopback_STATE1_WrongStateRefused: a redirect with a wrong or
// missing state ends the wait with ErrStateMismatch; the code is not
// returned.
func TestLoopback_STATE1_WrongStateRefused(t *testing.T) {
	for name, state := range map[string][]string{"wrong": {"forged"}, "missing": nil} {
		t.Run(name, func(t *testing.T) {
			open, pages := redirectOpener(func(url.Values) url.Values {
				return url.Values{"state": state, "iss": {issuer}, "code": {"CODE-LEAK"}}
			})
			l := &authorize.Loopback{Timeout: testTimeout, Open: open}
			s, err := l.Start(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r := newRequest(s, issuer, true)
			authURL, _ := r.URL()
			code, err := s.Wait(context.Background(), authURL, r.Verify)
			if !errors.Is(err, authorize.ErrStateMismatch) || code != "" {
				t.Fatalf("Wait = %q, %v", code, err)
			}
			if got := <-pages; got.status != http.StatusBadRequest || strings.Contains(got.body, "CODE-LEAK") {
				t.Errorf("page %d %q", got.status, got.body)
			}
		})
	}
}

// TestLoopback_ISS1_AbsentNotAdvertised: no iss, not advertised: accepted.
func TestLoopback_ISS1_AbsentNotAdvertised(t *testing.T) {
	open, pages := redirectOpener(func(q url.Values) url.Values {
		return url.Values{"state": {q.Get("state")}, "code": {"the-code"}}
	})
	l := &authorize.Loopback{Timeout: testTimeout, Open: open}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRequest(s, issuer, false)
	authURL, _ := r.URL()
	code, err := s.Wait(context.Background(), authURL, r.Verify)
	if err != nil || code != "the-code" {
		t.Errorf("Wait = %q, %v", code, err)
	}
	if got := <-pages; got.status != 200 || !strings.Contains(got.body, "Authorized") {
		t.Errorf("page %d %q", got.status, got.body)
	}
}

// TestLoopback_URL1_RefusesSchemesBeforeOpening: javascript:, data:,
// file: and plain-http authorization URLs never reach Open.
func TestLoopback_URL1_RefusesSchemesBeforeOpening(t *testing.T) {
	var opened atomic.Int32
	l := &authorize.Loopback{Timeout: testTimeout, Open: func(context.Context, string) error {
		opened.Add(1)
		return nil
	}}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []string{
		"javascript:alert(document.cookie)",
		"data:text/html,<script>alert(1)</script>",
		"file:///etc/passwd",
		"http://as.example/authorize?x=1",
		"calc.exe",
		"https://as.example/authorize#x",
	} {
		if _, err := s.Wait(context.Background(), u, func(authorize.Response) (string, error) { return "x", nil }); err == nil {
			t.Errorf("Wait(%q) accepted", u)
		}
	}
	if n := opened.Load(); n != 0 {
		t.Errorf("Open called %d times", n)
	}
}

// TestLoopback_OneCallbackOnly: the listener accepts exactly one callback;
// a second one is refused and cannot change the result.
func TestLoopback_OneCallbackOnly(t *testing.T) {
	var n atomic.Int32
	open, pages := redirectOpener(func(q url.Values) url.Values {
		return url.Values{"state": {q.Get("state")}, "iss": {issuer}, "code": {fmt.Sprint("code-", n.Add(1))}}
	})
	l := &authorize.Loopback{Timeout: testTimeout, Open: func(ctx context.Context, authURL string) error {
		if err := open(ctx, authURL); err != nil {
			return err
		}
		return open(ctx, authURL)
	}}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRequest(s, issuer, true)
	authURL, _ := r.URL()
	code, err := s.Wait(context.Background(), authURL, r.Verify)
	if err != nil || code != "code-1" {
		t.Fatalf("Wait = %q, %v", code, err)
	}
	if first := <-pages; first.status != 200 {
		t.Errorf("first callback: %d", first.status)
	}
	if second := <-pages; second.status != http.StatusBadRequest || !strings.Contains(second.body, "already been used") {
		t.Errorf("second callback: %d %q", second.status, second.body)
	}
}

// TestLoopback_OtherPathsAndEarlyCallbacks: requests to other paths get
// 404; a callback before Wait is refused.
func TestLoopback_OtherPathsAndEarlyCallbacks(t *testing.T) {
	l := &authorize.Loopback{Timeout: testTimeout, Open: func(context.Context, string) error { return nil }}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base, _ := url.Parse(s.RedirectURI())
	resp, err := http.Get(base.Scheme + "://" + base.Host + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %d", resp.StatusCode)
	}
	resp, err = http.Get(s.RedirectURI() + "?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("early callback: %d", resp.StatusCode)
	}
}

// TestLoopback_OpenErrorEndsWait: an Open failure ends the wait at once.
func TestLoopback_OpenErrorEndsWait(t *testing.T) {
	boom := errors.New("no browser")
	l := &authorize.Loopback{Timeout: testTimeout, Open: func(context.Context, string) error { return boom }}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRequest(s, issuer, true)
	authURL, _ := r.URL()
	if _, err := s.Wait(context.Background(), authURL, r.Verify); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

// TestLoopback_CancelledContext: a cancelled context ends the wait.
func TestLoopback_CancelledContext(t *testing.T) {
	l := &authorize.Loopback{Timeout: testTimeout, Open: func(ctx context.Context, _ string) error { return nil }}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newRequest(s, issuer, true)
	authURL, _ := r.URL()
	if _, err := s.Wait(ctx, authURL, r.Verify); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// TestLoopback_RDR1_Host: only loopback IP addresses are listened on;
// localhost is refused (it may resolve elsewhere), as is a missing Open.
func TestLoopback_RDR1_Host(t *testing.T) {
	for _, h := range []string{"localhost", "0.0.0.0", "192.0.2.1", "example.com"} {
		l := &authorize.Loopback{Host: h, Open: func(context.Context, string) error { return nil }}
		if s, err := l.Start(context.Background(), ""); err == nil {
			s.Close()
			t.Errorf("host %q accepted", h)
		}
	}
	if _, err := (&authorize.Loopback{}).Start(context.Background(), ""); err == nil {
		t.Error("nil Open accepted")
	}
}

// TestLoopback_PreferredPort: the port of an earlier registration's
// redirect URI is reused when free, so the registration still fits; when
// busy, an ephemeral port is used.
func TestLoopback_PreferredPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	busy := ln.Addr().String()
	preferredBusy := "http://" + busy + "/callback"

	l := &authorize.Loopback{Open: func(context.Context, string) error { return nil }}
	s, err := l.Start(context.Background(), preferredBusy)
	if err != nil {
		t.Fatal(err)
	}
	if s.RedirectURI() == preferredBusy {
		t.Errorf("busy port reused")
	}
	s.Close()

	ln.Close()
	s, err = l.Start(context.Background(), preferredBusy)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.RedirectURI() != preferredBusy {
		t.Errorf("RedirectURI %q, want the freed preferred %q", s.RedirectURI(), preferredBusy)
	}

	// A preferred URI with another path or host is not reused.
	s2, err := l.Start(context.Background(), "http://127.0.0.1:1/other")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if strings.HasSuffix(s2.RedirectURI(), ":1/callback") {
		t.Errorf("RedirectURI %q", s2.RedirectURI())
	}
}
