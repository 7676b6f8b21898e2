package scope_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mcpauth/mcpauth/scope"
)

var (
	asWithOffline    = []string{"openid", "profile", "offline_access", "mcp:read", "mcp:write"}
	asWithoutOffline = []string{"openid", "mcp:read", "mcp:write"}
	refreshGrants    = []string{"authorization_code", "refresh_token"}
	codeOnly         = []string{"authorization_code"}
)

// TestSelect covers SCP-1, SCP-2, STEP-1 and REF-3: the cases of the seed
// change's description, plus step-up, duplicates, empty entries,
// whitespace, a resource that wrongly lists offline_access, and a
// pre-registered client that does not declare its grant types.
func TestSelect(t *testing.T) {
	tests := []struct {
		name        string
		in          scope.Input
		want        []string
		source      scope.Source
		added       bool
		dropped     bool
		wantConsent bool
	}{
		// SCP-1 priority, no augmentation possible.
		{
			name:   "SCP-1 challenge scope wins over everything",
			in:     scope.Input{Challenge: []string{"files:read"}, ResourceScopes: []string{"a", "b"}, Configured: []string{"c"}},
			want:   []string{"files:read"},
			source: scope.FromChallenge,
		},
		{
			name:   "SCP-1 resource scopes_supported when no challenge scope",
			in:     scope.Input{ResourceScopes: []string{"a", "b"}, Configured: []string{"c"}},
			want:   []string{"a", "b"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "SCP-1 configured client scope as fallback",
			in:     scope.Input{Configured: []string{"c", "d"}},
			want:   []string{"c", "d"},
			source: scope.FromConfigured,
		},
		{
			name:   "SCP-1 omit when nothing is known",
			in:     scope.Input{ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:   nil,
			source: scope.Omitted,
		},
		{
			name:   "SCP-2 challenged scopes used as given, unrelated to scopes_supported",
			in:     scope.Input{Challenge: []string{"x:admin"}, ResourceScopes: []string{"a"}},
			want:   []string{"x:admin"},
			source: scope.FromChallenge,
		},
		// REF-3 augmentation.
		{
			name:        "REF-3 offline_access added from challenge when AS lists it and client holds refresh_token",
			in:          scope.Input{Challenge: []string{"mcp:read"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"mcp:read", "offline_access"},
			source:      scope.FromChallenge,
			added:       true,
			wantConsent: true,
		},
		{
			name:        "REF-3 offline_access added to resource scopes",
			in:          scope.Input{ResourceScopes: []string{"mcp:read", "mcp:write"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"mcp:read", "mcp:write", "offline_access"},
			source:      scope.FromResourceMetadata,
			added:       true,
			wantConsent: true,
		},
		{
			name:        "REF-3 offline_access added to configured scope",
			in:          scope.Input{Configured: []string{"mcp:read"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"mcp:read", "offline_access"},
			source:      scope.FromConfigured,
			added:       true,
			wantConsent: true,
		},
		{
			name:   "REF-3 not added when AS does not list offline_access",
			in:     scope.Input{ResourceScopes: []string{"mcp:read"}, ServerScopes: asWithoutOffline, GrantTypes: refreshGrants},
			want:   []string{"mcp:read"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "REF-3 not added when AS has no scopes_supported",
			in:     scope.Input{ResourceScopes: []string{"mcp:read"}, GrantTypes: refreshGrants},
			want:   []string{"mcp:read"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "REF-3 not added when grant types omit refresh_token",
			in:     scope.Input{ResourceScopes: []string{"mcp:read"}, ServerScopes: asWithOffline, GrantTypes: codeOnly},
			want:   []string{"mcp:read"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "REF-3 not added for a pre-registered client that declares no grant types",
			in:     scope.Input{Challenge: []string{"mcp:read"}, ServerScopes: asWithOffline},
			want:   []string{"mcp:read"},
			source: scope.FromChallenge,
		},
		{
			name:   "REF-3 not added when no other scope is requested",
			in:     scope.Input{ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:   nil,
			source: scope.Omitted,
		},
		{
			name:        "REF-3 never twice: already in configured scope",
			in:          scope.Input{Configured: []string{"offline_access", "mcp:read"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"offline_access", "mcp:read"},
			source:      scope.FromConfigured,
			wantConsent: true,
		},
		{
			name:        "SRV-2207 resource wrongly lists offline_access: kept once when allowed",
			in:          scope.Input{ResourceScopes: []string{"mcp:read", "offline_access"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"mcp:read", "offline_access"},
			source:      scope.FromResourceMetadata,
			wantConsent: true,
		},
		{
			name:    "SRV-2207 resource wrongly lists offline_access: dropped when AS does not offer it",
			in:      scope.Input{ResourceScopes: []string{"mcp:read", "offline_access"}, ServerScopes: asWithoutOffline, GrantTypes: refreshGrants},
			want:    []string{"mcp:read"},
			source:  scope.FromResourceMetadata,
			dropped: true,
		},
		{
			name:    "SRV-2207 offline_access alone in resource metadata is no request",
			in:      scope.Input{ResourceScopes: []string{"offline_access"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:    nil,
			source:  scope.Omitted,
			dropped: true,
		},
		// STEP-1 union.
		{
			name:        "STEP-1 step-up unites previous scopes with the challenge",
			in:          scope.Input{Previous: []string{"mcp:read", "offline_access"}, Challenge: []string{"mcp:read", "mcp:write"}, ServerScopes: asWithOffline, GrantTypes: refreshGrants},
			want:        []string{"mcp:read", "offline_access", "mcp:write"},
			source:      scope.FromStepUp,
			wantConsent: true,
		},
		{
			name:   "STEP-1 step-up without refresh support",
			in:     scope.Input{Previous: []string{"a"}, Challenge: []string{"b"}},
			want:   []string{"a", "b"},
			source: scope.FromStepUp,
		},
		{
			name:   "STEP-1 previous scopes alone do not make a step-up",
			in:     scope.Input{Previous: []string{"a"}, ResourceScopes: []string{"r"}},
			want:   []string{"r"},
			source: scope.FromResourceMetadata,
		},
		// Hygiene.
		{
			name:   "duplicates and empty entries removed",
			in:     scope.Input{ResourceScopes: []string{"a", "", "a", "b", " "}},
			want:   []string{"a", "b"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "extra whitespace in a challenge scope",
			in:     scope.Input{Challenge: scope.Parse("  mcp:read \t  mcp:write  ")},
			want:   []string{"mcp:read", "mcp:write"},
			source: scope.FromChallenge,
		},
		{
			name:   "blank challenge falls through to resource metadata",
			in:     scope.Input{Challenge: []string{" ", ""}, ResourceScopes: []string{"r"}},
			want:   []string{"r"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "scope values are case-sensitive",
			in:     scope.Input{ResourceScopes: []string{"Read", "read"}},
			want:   []string{"Read", "read"},
			source: scope.FromResourceMetadata,
		},
		{
			name:   "case-variant Offline_Access is not offline_access",
			in:     scope.Input{ResourceScopes: []string{"mcp:read"}, ServerScopes: []string{"Offline_Access"}, GrantTypes: refreshGrants},
			want:   []string{"mcp:read"},
			source: scope.FromResourceMetadata,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scope.Select(tt.in)
			if !slices.Equal(got.Scopes, tt.want) {
				t.Errorf("Scopes = %q, want %q", got.Scopes, tt.want)
			}
			if got.Source != tt.source {
				t.Errorf("Source = %q, want %q", got.Source, tt.source)
			}
			if got.OfflineAccessAdded != tt.added {
				t.Errorf("OfflineAccessAdded = %v, want %v", got.OfflineAccessAdded, tt.added)
			}
			if got.OfflineAccessDropped != tt.dropped {
				t.Errorf("OfflineAccessDropped = %v, want %v", got.OfflineAccessDropped, tt.dropped)
			}
			if got.PromptConsent() != tt.wantConsent {
				t.Errorf("PromptConsent() = %v, want %v", got.PromptConsent(), tt.wantConsent)
			}
			if got.Omit() != (tt.want == nil) {
				t.Errorf("Omit() = %v, want %v", got.Omit(), tt.want == nil)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a", []string{"a"}},
		{"a b", []string{"a", "b"}},
		{"a  b\tc\n", []string{"a", "b", "c"}},
		{"b a b", []string{"b", "a"}},
	}
	for _, tt := range tests {
		if got := scope.Parse(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnionAndCovers(t *testing.T) {
	u := scope.Union([]string{"a", "b"}, []string{"b", "c"})
	if !slices.Equal(u, []string{"a", "b", "c"}) {
		t.Fatalf("Union = %q", u)
	}
	if !scope.Covers(u, []string{"c", "a"}) || scope.Covers(u, []string{"d"}) {
		t.Fatal("Covers gave a wrong answer")
	}
	if !scope.Covers(u, nil) {
		t.Fatal("everything covers the empty set")
	}
}

func ExampleSelect() {
	sel := scope.Select(scope.Input{
		Challenge:    []string{"mcp:read"},
		ServerScopes: []string{"openid", "offline_access", "mcp:read"},
		GrantTypes:   []string{"authorization_code", "refresh_token"},
	})
	fmt.Println(sel.String(), sel.Source, sel.PromptConsent())
	// Output: mcp:read offline_access challenge true
}
