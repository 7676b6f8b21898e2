package redact_test

import (
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/redact"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"é ü ✓", "é ü ✓"},
		{"a\x1b[2Jb", "a\uFFFD[2Jb"},
		{"line\r\nbreak\ttab", "line\uFFFD\uFFFDbreak\uFFFDtab"},
		{"\u202egnp.exe", "\uFFFDgnp.exe"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_x rejected", "id_token [redacted] rejected"},
		{"jwe eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d end", "jwe [redacted] end"},
		{"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "[redacted]"},
	}
	for _, tt := range tests {
		if got := redact.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := redact.Text(strings.Repeat("é", 1000))
	if len(long) > redact.MaxText+20 || !strings.HasSuffix(long, "… (truncated)") {
		t.Errorf("long text: %d bytes, %q…", len(long), long[len(long)-20:])
	}
}

func TestSecrets(t *testing.T) {
	got := redact.Secrets("code=abc123 verifier=v+/= enc=v%2B%2F%3D empty", "abc123", "v+/=", "")
	if got != "code=[redacted] verifier=[redacted] enc=[redacted] empty" {
		t.Errorf("Secrets = %q", got)
	}
}
