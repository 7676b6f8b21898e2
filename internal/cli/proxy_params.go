package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the custom-header half of SEP-2243 (protocol
// 2026-07-28): a tool may mark properties of its inputSchema with
// x-mcp-header, and a Streamable HTTP client then mirrors those arguments
// of each tools/call into Mcp-Param-{Name} headers. The proxy learns the
// marks from the tools/list answers it passes on, drops the tools whose
// marks break the SEP's rules from those answers (as an HTTP client must),
// and sets the headers on the calls.

const (
	paramHeaderPrefix = "Mcp-Param-"
	base64Open        = "=?base64?"
	base64Close       = "?="
	// maxSafeInteger bounds the integers a header may carry: the
	// integers an IEEE 754 double holds exactly.
	maxSafeInteger = 1<<53 - 1
)

// paramBinding ties an argument, by its property path in the inputSchema,
// to the header that mirrors it.
type paramBinding struct {
	path   []string
	header string // the x-mcp-header value, without the prefix
}

// schemaNode is the part of a JSON Schema the bindings are read from.
type schemaNode struct {
	Type       json.RawMessage       `json:"type"`
	Header     json.RawMessage       `json:"x-mcp-header"`
	Properties map[string]schemaNode `json:"properties"`
}

// toolBindings reads the x-mcp-header marks of a tool's inputSchema, at any
// depth of properties, and checks them against SEP-2243: each is a
// non-empty RFC 9110 token, unique regardless of case, on a property of
// type string, integer or boolean.
func toolBindings(inputSchema json.RawMessage) ([]paramBinding, error) {
	if len(inputSchema) == 0 || !bytes.Contains(inputSchema, []byte("x-mcp-header")) {
		return nil, nil
	}
	var root schemaNode
	if err := json.Unmarshal(inputSchema, &root); err != nil {
		return nil, fmt.Errorf("inputSchema: %w", err)
	}
	var out []paramBinding
	if err := collectBindings(root.Properties, nil, &out); err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, b := range out {
		key := strings.ToLower(b.header)
		if other, ok := seen[key]; ok {
			return nil, fmt.Errorf("properties %q and %q both use x-mcp-header %q", other, strings.Join(b.path, "."), b.header)
		}
		seen[key] = strings.Join(b.path, ".")
	}
	return out, nil
}

func collectBindings(props map[string]schemaNode, prefix []string, out *[]paramBinding) error {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names) // a stable order for messages and tests
	for _, name := range names {
		prop := props[name]
		path := append(append([]string(nil), prefix...), name)
		if len(prop.Header) > 0 {
			var header string
			if err := json.Unmarshal(prop.Header, &header); err != nil || !isToken(header) {
				return fmt.Errorf("property %q: x-mcp-header %s is not an HTTP field-name token", strings.Join(path, "."), prop.Header)
			}
			var typ string
			_ = json.Unmarshal(prop.Type, &typ)
			switch typ {
			case "string", "integer", "boolean":
			default:
				return fmt.Errorf("property %q: x-mcp-header on type %s; only string, integer and boolean may be mirrored", strings.Join(path, "."), orNone(string(prop.Type)))
			}
			*out = append(*out, paramBinding{path: path, header: header})
		}
		if err := collectBindings(prop.Properties, path, out); err != nil {
			return err
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 §5.6.2 token (1*tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// setParamHeaders sets the Mcp-Param headers of a tools/call with these
// arguments. An argument that is absent or null has no header, and
// neither has one of a type that cannot be mirrored (the server judges
// the call then).
func setParamHeaders(h http.Header, bindings []paramBinding, arguments json.RawMessage) {
	if len(bindings) == 0 || len(arguments) == 0 {
		return
	}
	for _, b := range bindings {
		raw, ok := lookupArgument(arguments, b.path)
		if !ok {
			continue
		}
		if v, ok := paramValue(raw); ok {
			h.Set(paramHeaderPrefix+b.header, v)
		}
	}
}

// lookupArgument follows path through nested objects of arguments.
func lookupArgument(arguments json.RawMessage, path []string) (json.RawMessage, bool) {
	cur := arguments
	for _, name := range path {
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil {
			return nil, false
		}
		if cur = obj[name]; cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// paramValue is the header value of an argument: a string as it is, or
// wrapped in base64 (=?base64?...?=) when it is not plain printable ASCII,
// has white space at either end, or begins like a wrapped value; true and false;
// an integer in decimal. Null and anything else have none.
func paramValue(raw json.RawMessage) (string, bool) {
	raw = bytes.Trim(raw, " \t\r\n") // JSON's white space
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", false
	case string(raw) == "true" || string(raw) == "false":
		return string(raw), true
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		if needsBase64(s) {
			return base64Open + base64.StdEncoding.EncodeToString([]byte(s)) + base64Close, true
		}
		return s, true
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil || n != float64(int64(n)) || n > maxSafeInteger || n < -maxSafeInteger {
		return "", false
	}
	return strconv.FormatInt(int64(n), 10), true
}

func needsBase64(s string) bool {
	if s == "" {
		return false
	}
	// A value that begins like a wrapped one is wrapped too, so that no
	// decoder can take it for one.
	if !utf8.ValidString(s) || strings.HasPrefix(s, base64Open) {
		return true
	}
	if first, last := s[0], s[len(s)-1]; first == ' ' || first == '\t' || last == ' ' || last == '\t' {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return true
		}
	}
	return false
}

// toolsAnswer is the part of a tools/list answer the proxy reads.
type toolsAnswer struct {
	Result struct {
		Tools []json.RawMessage `json:"tools"`
	} `json:"result"`
}

// learnTools records the bindings of the tools a tools/list answer lists,
// and returns the answer without the tools whose marks break SEP-2243's
// rules (each dropped tool is logged), or msg itself when none does.
func (p *proxy) learnTools(msg []byte) []byte {
	var ans toolsAnswer
	if json.Unmarshal(msg, &ans) != nil || len(ans.Result.Tools) == 0 {
		return msg
	}
	kept := make([]json.RawMessage, 0, len(ans.Result.Tools))
	learned := map[string][]paramBinding{}
	for _, raw := range ans.Result.Tools {
		var tool struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if json.Unmarshal(raw, &tool) != nil {
			kept = append(kept, raw)
			continue
		}
		bindings, err := toolBindings(tool.InputSchema)
		if err != nil {
			p.logf("leaving tool %q out of the tool list: its x-mcp-header marks break SEP-2243: %s", redactText(tool.Name), redactText(err.Error()))
			continue
		}
		learned[tool.Name] = bindings
		kept = append(kept, raw)
	}
	p.mu.Lock()
	if p.toolParams == nil {
		p.toolParams = map[string][]paramBinding{}
	}
	for name, b := range learned {
		p.toolParams[name] = b
	}
	p.mu.Unlock()
	if len(kept) == len(ans.Result.Tools) {
		return msg
	}
	out, err := replaceTools(msg, kept)
	if err != nil {
		p.logf("could not leave tools out of the tool list: %v", err)
		return msg
	}
	return out
}

// replaceTools returns the answer msg with result.tools set to tools,
// every other member kept as it was.
func replaceTools(msg []byte, tools []json.RawMessage) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(msg, &top); err != nil {
		return nil, err
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(top["result"], &result); err != nil {
		return nil, err
	}
	list, err := json.Marshal(tools)
	if err != nil {
		return nil, err
	}
	result["tools"] = list
	if top["result"], err = json.Marshal(result); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}
