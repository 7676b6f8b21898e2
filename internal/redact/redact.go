// Package redact makes text a server sent fit to show, and removes the
// client's secrets from it.
//
// An authorization server's error_description and the like end up in
// error messages, logs and terminals. A hostile server could fill them with
// megabytes, with terminal escape sequences or bidirectional overrides that
// disguise what a person reads, or with the very secrets the client just
// sent it (an echo of the request), which would then reach the logs.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxText is the length [Text] keeps of a server's text, in bytes.
const MaxText = 512

// Placeholder replaces a secret.
const Placeholder = "[redacted]"

// Text returns s fit for an error message: JWTs are replaced by
// Placeholder ([JWTs]); invalid UTF-8, control characters (C0, C1, DEL)
// and bidirectional formatting characters are replaced by U+FFFD; and
// anything past MaxText bytes is cut and marked.
func Text(s string) string {
	s = JWTs(s)
	if isClean(s) && len(s) <= MaxText {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= MaxText {
			b.WriteString("… (truncated)")
			break
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		if unsafeRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isClean(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports a rune that must not reach a terminal or a log line
// from a server: control characters and the bidirectional formatting
// characters (Trojan Source, CVE-2021-42574).
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// Secrets returns s with every occurrence of each secret, as is and
// form-encoded, replaced by Placeholder. Empty secrets are ignored.
func Secrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, Placeholder)
		if enc := url.QueryEscape(sec); enc != sec {
			s = strings.ReplaceAll(s, enc, Placeholder)
		}
	}
	return s
}

// jwt matches a JWS or JWE compact serialization: base64url segments
// separated by dots, the first a JSON object ("eyJ" is the encoding of
// `{"`).
var jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){2,4}`)

// JWTs returns s with every JWT in it replaced by Placeholder: access
// tokens, ID tokens, client assertions and DPoP proofs are JWTs, and a
// server that quotes one in an error description must not get it into a
// log.
func JWTs(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwt.ReplaceAllString(s, Placeholder)
}
