package redact

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzText: whatever a server sends, Text returns valid UTF-8 without
// control or bidirectional formatting characters and without a JWT,
// bounded in length, and unchanged when it was already fit.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"plain", "\x1b[2J\x1b]8;;https://evil\x07", "\u202egnp.exe", "\xff\xfe", strings.Repeat("é", 400),
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl and more", "eyJ.eyJ", "\u2066x\u2069", "a\r\nb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("unsafe rune %U in %q", r, out)
			}
		}
		if len(out) > MaxText+utf8.UTFMax+len("… (truncated)") {
			t.Fatalf("%d bytes", len(out))
		}
		if jwt.MatchString(out) {
			t.Fatalf("a JWT survived: %q", out)
		}
		if isClean(s) && len(s) <= MaxText && !jwt.MatchString(s) && out != s {
			t.Fatalf("Text changed a fit string %q to %q", s, out)
		}
	})
}

// FuzzSecrets: after Secrets, no secret is left in the text, raw or
// form-encoded (unless it is part of the placeholder itself).
func FuzzSecrets(f *testing.F) {
	f.Add("code=abc123&verifier=xyz", "abc123", "xyz")
	f.Add("secret s3cr3t+/= and s3cr3t%2B%2F%3D", "s3cr3t+/=", "")
	f.Add("aaaa", "aa", "a")
	f.Fuzz(func(t *testing.T, s, a, b string) {
		out := Secrets(s, a, b)
		for _, sec := range []string{a, b} {
			if sec == "" || strings.Contains(Placeholder, sec) || strings.ContainsAny(sec, "[]") {
				continue
			}
			if strings.Contains(out, sec) && !strings.Contains(a+b, sec) {
				t.Fatalf("Secrets(%q, %q, %q) = %q", s, a, b, out)
			}
			// The other secret's replacement cannot create this one.
			if strings.Contains(out, sec) && !strings.Contains(a, b) && !strings.Contains(b, a) {
				t.Fatalf("Secrets(%q, %q, %q) = %q still holds %q", s, a, b, out, sec)
			}
			if enc := url.QueryEscape(sec); strings.Contains(out, enc) && !strings.Contains(a+b, enc) && !strings.Contains(Placeholder, enc) {
				t.Fatalf("Secrets(%q, %q, %q) = %q holds %q", s, a, b, out, enc)
			}
		}
	})
}
