package scope_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/mcpauth/mcpauth/scope"
)

// wellFormed reports the invariant of every scope list this package
// returns: no empty value, no value holding whitespace, no duplicate.
func wellFormed(t *testing.T, what string, scopes []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range scopes {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) || seen[s] {
			t.Fatalf("%s: %q is not a clean scope list", what, scopes)
		}
		seen[s] = true
	}
}

func count(scopes []string, v string) int {
	n := 0
	for _, s := range scopes {
		if s == v {
			n++
		}
	}
	return n
}

// FuzzParseNormalize: Parse, Normalize, Join, Union and Covers keep scope
// lists clean and lose nothing: Parse(Join(x)) is x, Normalize is
// idempotent, a union starts with its first list and covers both.
func FuzzParseNormalize(f *testing.F) {
	for _, s := range [][2]string{
		{"a b c", "c d"}, {"  a\t\tb  ", ""}, {"a a a", "a"}, {"", ""}, {"offline_access", "mcp:tools offline_access"},
		{"a\u00a0b\u2003c", "\u0085x"}, {"é ü", "É"}, {"\x00 \xff", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, pb := scope.Parse(a), scope.Parse(b)
		wellFormed(t, "Parse", pa)
		if back := scope.Parse(scope.Join(pa)); !slices.Equal(back, pa) {
			t.Fatalf("Parse(Join(%q)) = %q", pa, back)
		}
		raw := strings.Split(a, ",")
		n := scope.Normalize(raw)
		wellFormed(t, "Normalize", n)
		if !slices.Equal(scope.Normalize(n), n) {
			t.Fatalf("Normalize is not idempotent on %q", n)
		}
		for _, r := range raw {
			for _, v := range strings.Fields(r) {
				if !scope.Contains(n, v) {
					t.Fatalf("Normalize(%q) lost %q", raw, v)
				}
			}
		}
		u := scope.Union(pa, pb)
		wellFormed(t, "Union", u)
		if !slices.Equal(u[:len(pa)], pa) || !scope.Covers(u, pa) || !scope.Covers(u, pb) {
			t.Fatalf("Union(%q, %q) = %q", pa, pb, u)
		}
		for _, v := range pb {
			w := scope.Without(u, v)
			wellFormed(t, "Without", w)
			if scope.Contains(w, v) || len(w) != len(u)-1 {
				t.Fatalf("Without(%q, %q) = %q", u, v, w)
			}
		}
	})
}

// FuzzSelect: scope selection (SCP-1, STEP-1, REF-3). Whatever the
// challenge, resource metadata, server metadata and grant types say, the
// selection is a clean list; it is empty exactly when omitted; it holds
// offline_access at most once and only when the authorization server
// lists it, the client holds the refresh_token grant and another scope is
// requested; prompt=consent goes with offline_access (REF-4); and apart
// from offline_access, the scopes are those of the rule named.
func FuzzSelect(f *testing.F) {
	for _, s := range [][6]string{
		{"mcp:tools", "", "mcp:tools mcp:admin", "openid offline_access", "authorization_code refresh_token", ""},
		{"", "", "mcp:tools offline_access", "mcp:tools", "authorization_code refresh_token", ""},
		{"offline_access", "", "", "offline_access", "refresh_token", ""},
		{"mcp:admin", "mcp:tools", "", "offline_access", "refresh_token", ""},
		{"", "", "", "offline_access", "refresh_token", "mcp:tools offline_access offline_access"},
		{"", "", "", "", "", ""},
		{" , ,", "a,,b", "x  y", "offline_access,offline_access", "refresh_token,", "c"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	split := func(s string) []string { return strings.Split(s, ",") }
	f.Fuzz(func(t *testing.T, challenge, previous, resource, server, grants, configured string) {
		in := scope.Input{
			Challenge: split(challenge), Previous: split(previous), ResourceScopes: split(resource),
			ServerScopes: split(server), GrantTypes: split(grants), Configured: split(configured),
		}
		sel := scope.Select(in)
		wellFormed(t, "Select", sel.Scopes)
		if sel.Omit() != (len(sel.Scopes) == 0) || (sel.Source == scope.Omitted) != (len(sel.Scopes) == 0) {
			t.Fatalf("selection %+v", sel)
		}
		if sel.PromptConsent() != scope.Contains(sel.Scopes, scope.OfflineAccess) {
			t.Fatalf("prompt=consent %v for %q", sel.PromptConsent(), sel.Scopes)
		}
		if sel.OfflineAccessAdded && sel.OfflineAccessDropped {
			t.Fatalf("offline_access both added and dropped: %+v", sel)
		}
		if count(sel.Scopes, scope.OfflineAccess) > 1 {
			t.Fatalf("offline_access twice: %q", sel.Scopes)
		}
		offline := scope.Contains(sel.Scopes, scope.OfflineAccess)
		if offline && (!scope.Contains(scope.Normalize(in.ServerScopes), scope.OfflineAccess) ||
			!scope.Contains(scope.Normalize(in.GrantTypes), scope.RefreshTokenGrant) ||
			len(scope.Without(sel.Scopes, scope.OfflineAccess)) == 0) {
			t.Fatalf("offline_access requested against REF-3: %q from %+v", sel.Scopes, in)
		}
		if sel.OfflineAccessAdded && !offline {
			t.Fatalf("added but absent: %+v", sel)
		}
		var base []string
		switch sel.Source {
		case scope.FromStepUp:
			base = scope.Union(in.Previous, in.Challenge)
		case scope.FromChallenge:
			base = scope.Normalize(in.Challenge)
		case scope.FromResourceMetadata:
			base = scope.Normalize(in.ResourceScopes)
		case scope.FromConfigured:
			base = scope.Normalize(in.Configured)
		case scope.Omitted:
			return
		default:
			t.Fatalf("source %q", sel.Source)
		}
		if got, want := scope.Without(sel.Scopes, scope.OfflineAccess), scope.Without(base, scope.OfflineAccess); !slices.Equal(got, want) {
			t.Fatalf("%s selection %q, want %q (offline_access aside)", sel.Source, got, want)
		}
		if sel.Source == scope.FromStepUp && !scope.Covers(sel.Scopes, scope.Without(scope.Normalize(in.Challenge), scope.OfflineAccess)) {
			t.Fatalf("step-up %q lacks challenged %q", sel.Scopes, in.Challenge)
		}
	})
}
