// The JSON Schema scenarios (SEP-1613, SEP-2106): tool input schemas are
// kept as the server sent them, and $ref values are resolved only within the
// schema document, never fetched from the network.

package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// runSchemaRefNoDeref lists the tools and resolves the $ref values of their
// input schemas. Same-document references (#/...) are looked up in the
// schema; any other reference names a network resource, which a client must
// not fetch automatically, so it is reported and left alone.
func runSchemaRefNoDeref(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	for _, tool := range tools {
		var schema any
		if err := remarshal(tool.InputSchema, &schema); err != nil {
			return fmt.Errorf("tool %s: unreadable input schema: %v", tool.Name, err)
		}
		for _, ref := range collectRefs(schema) {
			if !strings.HasPrefix(ref, "#") {
				logf("tool %s: $ref %q is not in the schema document; not fetched", tool.Name, ref)
				continue
			}
			if _, err := resolvePointer(schema, ref); err != nil {
				logf("tool %s: $ref %q does not resolve: %v", tool.Name, ref, err)
				continue
			}
			logf("tool %s: $ref %q resolved within the schema", tool.Name, ref)
		}
	}
	return nil
}

// runSchemaPreservation sends the input schema of the focal tool back to the
// server through its echo tool, so the server can see which JSON Schema
// 2020-12 keywords ($schema, $defs, $anchor, additionalProperties, allOf,
// anyOf, if/then/else) the client kept while parsing tools/list.
func runSchemaPreservation(ctx context.Context, serverURL string, env *scenarioEnv) error {
	const focal, echo = "json_schema_2020_12_tool", "json_schema_echo"
	s, err := connect(ctx, serverURL, env, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tools, err := listTools(ctx, s)
	if err != nil {
		return err
	}
	tool := findTool(tools, focal)
	if tool == nil {
		return fmt.Errorf("server does not offer the %s tool", focal)
	}
	if findTool(tools, echo) == nil {
		return fmt.Errorf("server does not offer the %s tool", echo)
	}
	text, err := callTool(ctx, s, echo, map[string]any{"schema": tool.InputSchema})
	if err != nil {
		return err
	}
	logf("%s answered: %s", echo, text)
	return nil
}

// collectRefs returns every $ref string in a decoded JSON value, in a stable
// order.
func collectRefs(v any) []string {
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if ref, ok := v[k].(string); ok && k == "$ref" {
					refs = append(refs, ref)
					continue
				}
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return refs
}

// resolvePointer looks up a same-document reference ("#" followed by a JSON
// Pointer, RFC 6901) in doc.
func resolvePointer(doc any, ref string) (any, error) {
	frag, err := url.PathUnescape(strings.TrimPrefix(ref, "#"))
	if err != nil {
		return nil, err
	}
	if frag == "" {
		return doc, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("anchor references are not supported")
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot descend into %T at %q", cur, tok)
		}
	}
	return cur, nil
}
