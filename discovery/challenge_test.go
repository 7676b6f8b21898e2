package discovery_test

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/mcpauth/mcpauth/discovery"
)

func params(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestParseChallenges_PRM2 covers PRM-2: the WWW-Authenticate forms a 401
// or 403 may carry, one header or several.
func TestParseChallenges_PRM2(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   discovery.Challenges
	}{
		{
			name:   "resource_metadata and scope",
			values: []string{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"`},
			want: discovery.Challenges{{Scheme: "Bearer", Params: params(
				"resource_metadata", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
				"scope", "files:read files:write")}},
		},
		{
			name:   "bare scheme",
			values: []string{"Bearer"},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params()}},
		},
		{
			name:   "several challenges in one header",
			values: []string{`Basic realm="legacy", Bearer error="insufficient_scope", scope="a b", error_description="need b", DPoP algs="ES256"`},
			want: discovery.Challenges{
				{Scheme: "Basic", Params: params("realm", "legacy")},
				{Scheme: "Bearer", Params: params("error", "insufficient_scope", "scope", "a b", "error_description", "need b")},
				{Scheme: "DPoP", Params: params("algs", "ES256")},
			},
		},
		{
			name:   "challenges across headers",
			values: []string{`Basic realm="x"`, `Bearer resource_metadata="https://h/prm"`},
			want: discovery.Challenges{
				{Scheme: "Basic", Params: params("realm", "x")},
				{Scheme: "Bearer", Params: params("resource_metadata", "https://h/prm")},
			},
		},
		{
			name:   "escaped quotes and backslashes in quoted strings",
			values: []string{`Bearer error_description="say \"hi\", path C:\\dir \\\" end", realm="a\bc"`},
			want: discovery.Challenges{{Scheme: "Bearer", Params: params(
				"error_description", `say "hi", path C:\dir \" end`,
				"realm", "abc")}},
		},
		{
			name:   "comma and equals inside quoted string do not split",
			values: []string{`Bearer scope="a,b=c", error="x"`},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "a,b=c", "error", "x")}},
		},
		{
			name:   "token values unquoted",
			values: []string{`Bearer error=invalid_token, scope=read`},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params("error", "invalid_token", "scope", "read")}},
		},
		{
			name:   "token68 then another challenge",
			values: []string{`Negotiate YIIBhgYGKwYBBQUC+/Ab==, Bearer realm="r"`},
			want: discovery.Challenges{
				{Scheme: "Negotiate", Params: params(), Token68: "YIIBhgYGKwYBBQUC+/Ab=="},
				{Scheme: "Bearer", Params: params("realm", "r")},
			},
		},
		{
			name:   "param names lower-cased, first occurrence wins",
			values: []string{`Bearer Scope="first", SCOPE="second", Resource_Metadata="https://h/p"`},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "first", "resource_metadata", "https://h/p")}},
		},
		{
			name:   "optional whitespace and empty list elements",
			values: []string{` ,  Bearer   scope = "a" ,, error="e" ,  `},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "a", "error", "e")}},
		},
		{
			name:   "empty quoted value",
			values: []string{`Bearer scope=""`},
			want:   discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "")}},
		},
		{
			name:   "no header",
			values: nil,
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discovery.ParseChallenges(tt.values)
			if err != nil {
				t.Fatalf("ParseChallenges(%q): %v", tt.values, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseChallenges(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

// TestParseChallenges_PRM2_SchemeCaseInsensitive: schemes compare
// case-insensitively (RFC 9110 §11.1), and the scheme is kept as sent.
func TestParseChallenges_PRM2_SchemeCaseInsensitive(t *testing.T) {
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		cs, err := discovery.ParseChallenges([]string{`Basic realm="x", ` + scheme + ` scope="mcp"`})
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		c, ok := cs.Bearer()
		if !ok {
			t.Fatalf("%s: Bearer() found nothing in %#v", scheme, cs)
		}
		if c.Scheme != scheme || !c.HasScheme("BEARER") || c.Params["scope"] != "mcp" {
			t.Errorf("%s: got %#v", scheme, c)
		}
	}
}

// TestChallenges_PRM2_BearerPrefersBearerOverDPoP: a response offering
// both schemes is acted on through its Bearer challenge; a DPoP-only one
// through its DPoP challenge.
func TestChallenges_PRM2_BearerPrefersBearerOverDPoP(t *testing.T) {
	cs, _ := discovery.ParseChallenges([]string{`DPoP algs="ES256", scope="d"`, `Bearer scope="b"`})
	if c, _ := cs.Bearer(); c.Params["scope"] != "b" {
		t.Errorf("Bearer() = %#v, want the Bearer challenge", c)
	}
	cs, _ = discovery.ParseChallenges([]string{`DPoP algs="ES256", scope="d"`})
	if c, ok := cs.Bearer(); !ok || c.Params["scope"] != "d" {
		t.Errorf("Bearer() = %#v, %v, want the DPoP challenge", c, ok)
	}
	if _, ok := (discovery.Challenges{{Scheme: "Basic"}}).Bearer(); ok {
		t.Error("Bearer() found a challenge among Basic only")
	}
}

// TestChallenge_PRM2_Accessors: the typed accessors of the parameters the
// client acts on.
func TestChallenge_PRM2_Accessors(t *testing.T) {
	cs, err := discovery.ParseChallenges([]string{`Bearer resource_metadata="https://h/prm", scope="  a b  a ", error="insufficient_scope", error_description="why"`})
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if c.ResourceMetadata() != "https://h/prm" || c.Error() != "insufficient_scope" || c.ErrorDescription() != "why" {
		t.Errorf("accessors: %q %q %q", c.ResourceMetadata(), c.Error(), c.ErrorDescription())
	}
	if got := c.Scope(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Scope() = %q, want [a b]", got)
	}
}

// TestParseChallenges_PRM2_Malformed: malformed input yields a
// *ChallengeError, together with the challenges parsed before the fault.
// The challenge in which the fault lies comes last, holding the
// parameters before the fault.
func TestParseChallenges_PRM2_Malformed(t *testing.T) {
	tests := []struct {
		name       string
		values     []string
		want       discovery.Challenges
		wantOffset int
	}{
		{
			name:       "unterminated quoted string",
			values:     []string{`Basic realm="x", Bearer scope="a", error="oops`},
			want:       discovery.Challenges{{Scheme: "Basic", Params: params("realm", "x")}, {Scheme: "Bearer", Params: params("scope", "a")}},
			wantOffset: len(`Basic realm="x", Bearer scope="a", error="oops`),
		},
		{
			name:       "unterminated escape",
			values:     []string{`Bearer scope="a\`},
			want:       discovery.Challenges{{Scheme: "Bearer", Params: params()}},
			wantOffset: len(`Bearer scope="a\`),
		},
		{
			name:       "missing comma between params",
			values:     []string{`Bearer scope="a" error="b"`},
			want:       discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "a")}},
			wantOffset: len(`Bearer scope="a" `),
		},
		{
			name:       "missing value",
			values:     []string{`Bearer error="b", scope=`},
			want:       discovery.Challenges{{Scheme: "Bearer", Params: params("error", "b")}},
			wantOffset: len(`Bearer error="b", scope=`),
		},
		{
			// The value cut short by the fault ("https") is not kept: a
			// truncated resource_metadata must not be acted on.
			name:       "unquoted URL value",
			values:     []string{`Bearer resource_metadata=https://h/prm`},
			want:       discovery.Challenges{{Scheme: "Bearer", Params: params()}},
			wantOffset: len(`Bearer resource_metadata=https`),
		},
		{
			name:       "no scheme",
			values:     []string{`="x"`},
			want:       nil,
			wantOffset: 0,
		},
		{
			name:       "second header malformed keeps the first header's challenges",
			values:     []string{`Bearer scope="ok"`, `Basic realm="x`},
			want:       discovery.Challenges{{Scheme: "Bearer", Params: params("scope", "ok")}, {Scheme: "Basic", Params: params()}},
			wantOffset: len(`Basic realm="x`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discovery.ParseChallenges(tt.values)
			var ce *discovery.ChallengeError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseChallenges(%q) error = %v, want a *ChallengeError", tt.values, err)
			}
			if ce.Offset != tt.wantOffset {
				t.Errorf("Offset = %d, want %d (%s)", ce.Offset, tt.wantOffset, ce)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("challenges before the fault\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestParseResponse_PRM2 reads every WWW-Authenticate header of a
// response.
func TestParseResponse_PRM2(t *testing.T) {
	resp := &http.Response{Header: http.Header{}}
	resp.Header.Add("WWW-Authenticate", `Basic realm="x"`)
	resp.Header.Add("Www-Authenticate", `Bearer scope="s"`)
	cs, err := discovery.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[1].Scheme != "Bearer" || cs[1].Params["scope"] != "s" {
		t.Errorf("got %#v", cs)
	}
	if c, ok := cs.Find("basic"); !ok || c.Params["realm"] != "x" {
		t.Errorf("Find(basic) = %#v, %v", c, ok)
	}
}
