package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
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

// toolBindings reads the x-mcp-header marks of a tool's inputSchema and
// checks them against SEP-2243: each sits on a property reached from the
// schema's root through properties alone (at any depth, but not under
// items, anyOf, $ref and the like, nor on the root), is a non-empty RFC
// 9110 token, unique regardless of case, on a property of type string,
// integer or boolean (or one of them and null).
func toolBindings(inputSchema json.RawMessage) ([]paramBinding, error) {
	if len(inputSchema) == 0 || !bytes.Contains(inputSchema, []byte("x-mcp-header")) {
		return nil, nil
	}
	var root any
	if err := json.Unmarshal(inputSchema, &root); err != nil {
		return nil, fmt.Errorf("inputSchema: %w", err)
	}
	var out []paramBinding
	if err := walkSchema(root, nil, true, &out); err != nil {
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

// walkSchema looks for x-mcp-header marks in node, a JSON Schema (or a
// value within one). onChain tells that node was reached from the root
// through properties alone, path by which names; a mark anywhere else, or
// on the root, makes the tool invalid.
func walkSchema(node any, path []string, onChain bool, out *[]paramBinding) error {
	switch n := node.(type) {
	case []any:
		for _, v := range n {
			if err := walkSchema(v, nil, false, out); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if mark, ok := n["x-mcp-header"]; ok {
			b, err := binding(n, mark, path, onChain)
			if err != nil {
				return err
			}
			*out = append(*out, b)
		}
		// In a stable order, for messages and tests.
		for _, k := range slices.Sorted(maps.Keys(n)) {
			switch k {
			case "x-mcp-header", "default", "examples", "const", "enum":
				continue // values, not schemas
			case "properties":
				props, _ := n[k].(map[string]any)
				for _, name := range slices.Sorted(maps.Keys(props)) {
					sub := append(append([]string(nil), path...), name)
					if err := walkSchema(props[name], sub, onChain, out); err != nil {
						return err
					}
				}
			default:
				if err := walkSchema(n[k], nil, false, out); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// binding checks the x-mcp-header mark of the property schema prop.
func binding(prop map[string]any, mark any, path []string, onChain bool) (paramBinding, error) {
	where := strings.Join(path, ".")
	if !onChain || len(path) == 0 {
		return paramBinding{}, fmt.Errorf("an x-mcp-header mark (%v) outside properties: only properties reached through properties may carry one", mark)
	}
	header, _ := mark.(string)
	if !isToken(header) {
		return paramBinding{}, fmt.Errorf("property %q: x-mcp-header %v is not an HTTP field-name token", where, mark)
	}
	if !mirrorable(prop["type"]) {
		return paramBinding{}, fmt.Errorf("property %q: x-mcp-header on type %v; only string, integer and boolean may be mirrored", where, orNone(fmt.Sprint(prop["type"])))
	}
	return paramBinding{path: path, header: header}, nil
}

// mirrorable reports whether a property of this JSON Schema type may be
// mirrored: string, integer or boolean, alone or with null.
func mirrorable(typ any) bool {
	var types []string
	switch t := typ.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			s, ok := v.(string)
			if !ok {
				return false
			}
			if s != "null" {
				types = append(types, s)
			}
		}
	}
	if len(types) != 1 {
		return false
	}
	switch types[0] {
	case "string", "integer", "boolean":
		return true
	}
	return false
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
		return headerValue(s), true
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil || n != float64(int64(n)) || n > maxSafeInteger || n < -maxSafeInteger {
		return "", false
	}
	return strconv.FormatInt(int64(n), 10), true
}

// headerValue is s as a header value of the 2026-07-28 protocol (Mcp-Name
// and Mcp-Param headers): as it is when it is plain visible ASCII, else
// wrapped in base64.
func headerValue(s string) string {
	if needsBase64(s) {
		return base64Open + base64.StdEncoding.EncodeToString([]byte(s)) + base64Close
	}
	return s
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

// codeHeaderMismatch is the JSON-RPC error a 2026-07-28 server answers,
// with HTTP 400, when a request's headers do not match its body.
const codeHeaderMismatch = -32020

// maxToolPages bounds the tools/list pages the proxy reads for itself.
const maxToolPages = 20

// learnForRetry handles a header mismatch on a tools/call of a tool the
// proxy has not seen listed (the client kept its tool list from an
// earlier session, say): it lists the tools itself, and reports whether
// the call should go again, now that the tool's marks are known. A call
// goes again once at most.
func (p *proxy) learnForRetry(ctx context.Context, m *message, body []byte) bool {
	if m.retried || len(m.calls()) != 1 || m.method() != "tools/call" {
		return false
	}
	var answer struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Error == nil || answer.Error.Code != codeHeaderMismatch {
		return false
	}
	name := m.envs[0].Params.Name
	p.mu.Lock()
	_, known := p.toolParams[name]
	version := effective(m.version, p.protocolVersion)
	p.mu.Unlock()
	if known || version < protocol20260728 {
		return false
	}
	// The proxy's own requests carry the client's _meta: on 2026-07-28 it
	// names the client and its capabilities in every request.
	var params struct {
		Params struct {
			Meta json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	_ = json.Unmarshal(m.raw, &params)
	p.logf("the server wants headers for tool %q the proxy has not seen listed; listing the tools", redactText(name))
	if err := p.listTools(ctx, params.Params.Meta); err != nil {
		p.logf("listing the tools: %s", redactText(err.Error()))
		return false
	}
	p.mu.Lock()
	_, known = p.toolParams[name]
	p.mu.Unlock()
	m.retried = known
	return known
}

// listTools reads every page of the server's tools/list for the proxy
// itself, and learns the tools' marks. Nothing of it goes to stdout.
func (p *proxy) listTools(ctx context.Context, meta json.RawMessage) error {
	cursor := ""
	for page := 0; page < maxToolPages; page++ {
		params := map[string]any{}
		if len(meta) > 0 {
			params["_meta"] = meta
		}
		if cursor != "" {
			params["cursor"] = cursor
		}
		line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": fmt.Sprintf("mcpauth-proxy-tools-%d", page), "method": "tools/list", "params": params})
		if err != nil {
			return err
		}
		answer, err := p.ask(ctx, line)
		if err != nil {
			return err
		}
		p.learnTools(answer)
		var next struct {
			Result struct {
				NextCursor string `json:"nextCursor"`
			} `json:"result"`
		}
		if json.Unmarshal(answer, &next) != nil || next.Result.NextCursor == "" {
			return nil
		}
		cursor = next.Result.NextCursor
	}
	return fmt.Errorf("more than %d pages of tools", maxToolPages)
}

// ask sends a request of the proxy's own and returns the response to it,
// from a JSON body or the first response of an event stream.
func (p *proxy) ask(ctx context.Context, line []byte) ([]byte, error) {
	m := &message{raw: line}
	var err error
	if m.envs, err = decodeEnvelopes(line); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(line))
	if err != nil {
		return nil, err
	}
	p.headers(req.Header, m)
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the MCP server answered HTTP %d", resp.StatusCode)
	}
	if mediaType(resp.Header.Get("Content-Type")) != "text/event-stream" {
		return io.ReadAll(io.LimitReader(resp.Body, maxMessage))
	}
	var answer []byte
	_, err = readSSE(resp.Body, "", func(data []byte) bool {
		if envs, err := decodeEnvelopes(data); err == nil && len(envs) == 1 && envs[0].Method == "" && len(envs[0].ID) > 0 {
			answer = bytes.Clone(data)
		}
		return answer == nil
	})
	if answer != nil {
		return answer, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, errors.New("the event stream ended before the answer")
}
