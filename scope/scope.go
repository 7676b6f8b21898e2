// Package scope selects the OAuth scopes an MCP client requests.
//
// It implements the MCP authorization specification's scope selection
// strategy (revision 2026-07-28, "Scope Selection Strategy"), the step-up
// union of SEP-2350, and SEP-2207's guidance on refresh tokens from
// OpenID-flavoured authorization servers: request offline_access when the
// authorization server advertises it and the client is registered for the
// refresh_token grant, and send prompt=consent with it (OpenID Connect Core
// 1.0 §11).
//
// Scope values are case-sensitive strings separated by spaces
// (RFC 6749 §3.3); this package never changes their case.
package scope

import "strings"

// OfflineAccess is the OpenID Connect scope that asks for a refresh token
// (OpenID Connect Core 1.0 §11).
const OfflineAccess = "offline_access"

// RefreshTokenGrant is the grant_type value of RFC 6749 §6, as listed in a
// client's registered grant_types (RFC 7591 §2).
const RefreshTokenGrant = "refresh_token"

// Parse splits a scope parameter (RFC 6749 §3.3) into its values, in order,
// dropping empty entries and duplicates. Any run of ASCII whitespace
// separates values, so a sloppy "a  b\t c" still yields three.
func Parse(s string) []string {
	return Normalize(strings.Fields(s))
}

// Normalize returns the non-empty values of scopes, trimmed of surrounding
// whitespace, with duplicates removed and first-seen order kept. A value that
// itself holds spaces is split, since a scope token cannot contain one.
// It returns nil when nothing remains.
func Normalize(scopes []string) []string {
	var out []string
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		for _, v := range strings.Fields(s) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// Join formats scopes as a scope parameter value.
func Join(scopes []string) string {
	return strings.Join(Normalize(scopes), " ")
}

// Union returns the values of a followed by those of b not already in a,
// normalized as by [Normalize].
func Union(a, b []string) []string {
	return Normalize(append(append([]string(nil), a...), b...))
}

// Contains reports whether scopes holds v exactly (scope values are
// case-sensitive, RFC 6749 §3.3).
func Contains(scopes []string, v string) bool {
	for _, s := range scopes {
		if s == v {
			return true
		}
	}
	return false
}

// Covers reports whether every value of want is in have.
func Covers(have, want []string) bool {
	for _, w := range Normalize(want) {
		if !Contains(have, w) {
			return false
		}
	}
	return true
}

// Without returns scopes with every occurrence of v removed.
func Without(scopes []string, v string) []string {
	var out []string
	for _, s := range Normalize(scopes) {
		if s != v {
			out = append(out, s)
		}
	}
	return out
}
