package authorize

import (
	"errors"
	"html"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzVerify: the redirect callback (STATE-1, ISS-1). ParseResponse reads
// the query as sent; Verify returns a code only for the request's own
// non-empty state, an iss that is absent (when not advertised) or
// identical, and no error; a wrong state is ErrStateMismatch whatever else
// the response holds; an iss mismatch hides the error the response
// carries; an authorization server error is reported only after both
// checks; and every message is safe to print.
func FuzzVerify(f *testing.F) {
	const iss = "https://auth.example.com"
	for _, s := range []struct {
		query, state string
		advertised   bool
	}{
		{"code=abc&state=S&iss=https%3A%2F%2Fauth.example.com", "S", true},
		{"code=abc&state=S", "S", false},
		{"code=abc&state=S", "S", true},
		{"code=abc&state=T&iss=https%3A%2F%2Fauth.example.com", "S", true},
		{"code=abc&iss=https%3A%2F%2Fauth.example.com", "S", true},
		{"state=S&iss=https%3A%2F%2Fevil.example&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "S", true},
		{"state=S&iss=https%3A%2F%2Fauth.example.com%2F&code=abc", "S", false},
		{"state=S&iss=&code=abc", "S", false},
		{"state=S&error=access_denied&error_description=%1B%5B2J%E2%80%AEx", "S", false},
		{"state=S&state=T&code=a&code=b", "S", false},
		{"state=S", "S", false},
		{"state=&code=abc", "", false},
		{"%zz&state=S&code=abc", "S", false},
	} {
		f.Add(s.query, s.state, s.advertised)
	}
	f.Fuzz(func(t *testing.T, query, state string, advertised bool) {
		q, _ := url.ParseQuery(query) // what the listener gets from net/url
		resp := ParseResponse(q)
		if _, has := q["iss"]; has != resp.HasIss || resp.Iss != q.Get("iss") || resp.State != q.Get("state") || resp.Code != q.Get("code") {
			t.Fatalf("ParseResponse(%q) = %+v", query, resp)
		}
		req := Request{State: state, Issuer: iss, IssParameterSupported: advertised, Verifier: "verifier-0123456789"}
		code, err := req.Verify(resp)
		if (code == "") == (err == nil) {
			t.Fatalf("Verify = %q, %v", code, err)
		}
		stateOK := state != "" && resp.State == state
		issOK := (!resp.HasIss && !advertised) || (resp.HasIss && resp.Iss == iss)
		switch {
		case err == nil:
			if !stateOK || !issOK || resp.Error != "" || code != resp.Code {
				t.Fatalf("accepted %+v for state %q (advertised %v)", resp, state, advertised)
			}
			return
		case !stateOK:
			if !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("state %q for %q: %v", resp.State, state, err)
			}
		case !issOK:
			var ie *IssuerMismatchError
			var se *ServerError
			if !errors.As(err, &ie) || errors.As(err, &se) {
				t.Fatalf("iss %q (present %v, advertised %v): %v", resp.Iss, resp.HasIss, advertised, err)
			}
		case resp.Error != "":
			var se *ServerError
			if !errors.As(err, &se) {
				t.Fatalf("error response: %v", err)
			}
			const fixed = "the authorization server refused the authorization: : (the request was declined)[redacted]… (truncated)"
			c := resp.Code
			if len(c) >= 8 && strings.Contains(se.Error(), c) && !strings.Contains(fixed, c) &&
				utf8.ValidString(c) && !strings.ContainsFunc(c, func(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }) {
				t.Fatalf("the error shows the response's code %q: %v", c, err)
			}
		default:
			if !errors.Is(err, ErrNoCode) {
				t.Fatalf("no code: %v", err)
			}
		}
		if msg := err.Error(); strings.ContainsFunc(msg, unicode.IsControl) || strings.ContainsRune(msg, '\u202e') {
			t.Fatalf("unsafe message %q", msg)
		}
	})
}

// FuzzResultPage: the page the loopback listener shows escapes whatever
// message it is given: no markup of the message survives, and the text
// reads back as the message.
func FuzzResultPage(f *testing.F) {
	for _, s := range []string{
		"You can close this window.",
		`<script>alert("x")</script>`,
		`"><img src=x onerror=alert(1)>`,
		"javascript:alert(1)",
		"a & b < c > d ' e \" f",
		"</p><h1>fake</h1><p>",
		"{{.Message}}",
		"\x00\x1b[2J",
		"\xff\xfe",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, message string, ok bool) {
		rec := httptest.NewRecorder()
		renderPage(rec, ok, message)
		body := rec.Body.String()
		start := strings.Index(body, "<p>")
		end := strings.LastIndex(body, "</p>")
		if start < 0 || end < start {
			t.Fatalf("page without its paragraph: %q", body)
		}
		shown := body[start+3 : end]
		if strings.ContainsAny(shown, "<>\"'") {
			t.Fatalf("unescaped markup in %q", shown)
		}
		if strings.Count(body, "<p>") != 1 || strings.Count(body, "<script") != 0 {
			t.Fatalf("page structure changed: %q", body)
		}
		if utf8.ValidString(message) && !strings.ContainsRune(message, 0) && html.UnescapeString(shown) != message {
			t.Fatalf("the page shows %q for %q", html.UnescapeString(shown), message)
		}
	})
}
