// Tests for the SKILL.md frontmatter parser.

package main

import (
	"reflect"
	"testing"
)

func TestParseFrontmatter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{"plain", "---\nname: pdf\ndescription: Fill PDF forms\n---\nbody\n",
			map[string]any{"name": "pdf", "description": "Fill PDF forms"}},
		{"crlf and bom", "\ufeff---\r\nname: pdf\r\n---\r\n",
			map[string]any{"name": "pdf"}},
		{"no body", "---\nname: pdf\n---",
			map[string]any{"name": "pdf"}},
		{"types", "---\nn: 42\nf: 1.5\nt: true\nz: null\ne:\ns: '42'\n---\n",
			map[string]any{"n": 42.0, "f": 1.5, "t": true, "z": nil, "e": nil, "s": "42"}},
		{"quoted", "---\na: 'it''s: here'\nb: \"tab\\there \\u00e9 \\\"q\\\"\" # comment\nc: plain # comment\n---\n",
			map[string]any{"a": "it's: here", "b": "tab\there é \"q\"", "c": "plain"}},
		{"nested and comments", "---\n# leading comment\nname: pdf\nmetadata:\n  author: me\n  version: \"1.0\"\n\nlicense: MIT\n---\n",
			map[string]any{"name": "pdf", "metadata": map[string]any{"author": "me", "version": "1.0"}, "license": "MIT"}},
		{"sequences", "---\nallowed-tools:\n  - Read\n  - Write\ntags:\n- a\n- b\n---\n",
			map[string]any{"allowed-tools": []any{"Read", "Write"}, "tags": []any{"a", "b"}}},
		{"folded plain", "---\ndescription: one\n  two\n  three\nname: x\n---\n",
			map[string]any{"description": "one two three", "name": "x"}},
		{"literal block", "---\nd: |\n  line1\n  line2\n\nname: x\n---\n",
			map[string]any{"d": "line1\nline2\n", "name": "x"}},
		{"folded block strip", "---\nd: >-\n  one\n  two\n\n  para\n---\n",
			map[string]any{"d": "one two\npara"}},
		{"keep block", "---\nd: |+\n  a\n\n---\n",
			map[string]any{"d": "a\n\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFrontmatter(tt.in)
			if err != nil {
				t.Fatalf("parseFrontmatter: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseFrontmatterRejects(t *testing.T) {
	for name, in := range map[string]string{
		"no frontmatter":     "# Title\n",
		"unterminated":       "---\nname: x\n",
		"not a mapping":      "---\n- a\n---\n",
		"duplicate key":      "---\nname: a\nname: b\n---\n",
		"flow sequence":      "---\ntags: [a, b]\n---\n",
		"flow mapping":       "---\nm: {a: 1}\n---\n",
		"anchor":             "---\na: &x 1\n---\n",
		"alias":              "---\na: *x\n---\n",
		"tag":                "---\na: !!str 1\n---\n",
		"colon in plain":     "---\ndescription: Use when: always\n---\n",
		"bad indentation":    "---\na: 1\n   b: 2\n---\n",
		"tab indentation":    "---\na:\n\tb: 1\n---\n",
		"unterminated quote": "---\na: \"open\n---\n",
		"bad escape":         "---\na: \"\\q\"\n---\n",
		"quoted key":         "---\n\"a\": 1\n---\n",
		"mapping in list":    "---\nl:\n  - a: 1\n---\n",
	} {
		if got, err := parseFrontmatter(in); err == nil {
			t.Errorf("%s: parseFrontmatter = %#v, want an error", name, got)
		}
	}
}
