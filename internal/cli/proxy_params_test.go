package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestParamValue_SEP2243(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{`"us-west1"`, "us-west1", true},
		{`""`, "", true},
		{`" padded"`, "=?base64?IHBhZGRlZA==?=", true},
		{`"tab\t"`, "=?base64?dGFiCQ==?=", true},
		{`"café"`, "=?base64?Y2Fmw6k=?=", true},
		{`"line\nbreak"`, "=?base64?bGluZQpicmVhaw==?=", true},
		{`"=?base64?abc?="`, "=?base64?PT9iYXNlNjQ/YWJjPz0=?=", true},
		{`true`, "true", true},
		{`false`, "false", true},
		{`42`, "42", true},
		{`-7`, "-7", true},
		{`9007199254740991`, "9007199254740991", true},
		{`9007199254740993`, "", false},
		{`1.5`, "", false},
		{`null`, "", false},
		{`{"a":1}`, "", false},
		{`[1]`, "", false},
	}
	for _, tt := range tests {
		got, ok := paramValue(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("paramValue(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestToolBindings_SEP2243(t *testing.T) {
	tests := []struct {
		name    string
		schema  string
		want    []string // path=header
		wantErr string
	}{
		{"none", `{"type":"object","properties":{"a":{"type":"string"}}}`, nil, ""},
		{"top level and nested", `{"type":"object","properties":{
			"region":{"type":"string","x-mcp-header":"Region"},
			"opts":{"type":"object","properties":{"dry":{"type":"boolean","x-mcp-header":"Dry-Run"},"n":{"type":"integer","x-mcp-header":"N"}}}}}`,
			[]string{"opts.dry=Dry-Run", "opts.n=N", "region=Region"}, ""},
		{"not a token", `{"properties":{"a":{"type":"string","x-mcp-header":"has space"}}}`, nil, "not an HTTP field-name token"},
		{"empty", `{"properties":{"a":{"type":"string","x-mcp-header":""}}}`, nil, "not an HTTP field-name token"},
		{"not a string", `{"properties":{"a":{"type":"string","x-mcp-header":7}}}`, nil, "not an HTTP field-name token"},
		{"duplicate regardless of case", `{"properties":{"a":{"type":"string","x-mcp-header":"Region"},"b":{"type":"string","x-mcp-header":"region"}}}`, nil, "both use"},
		{"number", `{"properties":{"a":{"type":"number","x-mcp-header":"A"}}}`, nil, "only string, integer and boolean"},
		{"object", `{"properties":{"a":{"type":"object","x-mcp-header":"A"}}}`, nil, "only string, integer and boolean"},
		{"string or null", `{"properties":{"a":{"type":["string","null"],"x-mcp-header":"A"}}}`, []string{"a=A"}, ""},
		{"two types", `{"properties":{"a":{"type":["string","integer"],"x-mcp-header":"A"}}}`, nil, "only string, integer and boolean"},
		{"boolean subschemas", `{"properties":{"extra":true,"a":{"type":"string","x-mcp-header":"A"}},"additionalProperties":false}`, []string{"a=A"}, ""},
		{"only named in a description", `{"description":"no x-mcp-header here","properties":{"a":{"type":"string"}}}`, nil, ""},
		{"a default value that looks like a mark", `{"properties":{"a":{"type":"object","default":{"x-mcp-header":"A"}}}}`, nil, ""},
		{"on the root", `{"type":"string","x-mcp-header":"A"}`, nil, "outside properties"},
		{"under items", `{"properties":{"list":{"type":"array","items":{"type":"string","x-mcp-header":"A"}}}}`, nil, "outside properties"},
		{"under anyOf", `{"anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}`, nil, "outside properties"},
		{"under $defs", `{"$defs":{"r":{"type":"string","x-mcp-header":"A"}},"properties":{"a":{"$ref":"#/$defs/r"}}}`, nil, "outside properties"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toolBindings(json.RawMessage(tt.schema))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var flat []string
			for _, b := range got {
				flat = append(flat, strings.Join(b.path, ".")+"="+b.header)
			}
			if !slices.Equal(flat, tt.want) {
				t.Errorf("bindings = %q, want %q", flat, tt.want)
			}
		})
	}
}

// A tools/list answer loses the tools whose marks break the rules, and
// keeps everything else as it was.
func TestLearnTools_SEP2243_DropsInvalidTools(t *testing.T) {
	var logs []string
	p := &proxy{logf: func(f string, a ...any) { logs = append(logs, f) }}
	msg := []byte(`{"jsonrpc":"2.0","id":3,"result":{"nextCursor":"c1","tools":[` +
		`{"name":"good","inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"}}}},` +
		`{"name":"bad","inputSchema":{"type":"object","properties":{"x":{"type":"number","x-mcp-header":"X"}}}},` +
		`{"name":"plain","inputSchema":{"type":"object"}}]}}`)
	out := p.learnTools(msg)
	var got struct {
		ID     int `json:"id"`
		Result struct {
			NextCursor string `json:"nextCursor"`
			Tools      []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range got.Result.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Equal(names, []string{"good", "plain"}) || got.Result.NextCursor != "c1" || got.ID != 3 {
		t.Errorf("answer = %s", out)
	}
	if len(p.toolParams["good"]) != 1 || len(logs) != 1 {
		t.Errorf("bindings %v, logs %q", p.toolParams, logs)
	}
	// An answer with nothing to drop passes through byte for byte.
	clean := []byte(`{"jsonrpc":"2.0","id":4,"result":{"tools":[{"name":"plain","inputSchema":{"type":"object"}}]}}`)
	if out := p.learnTools(clean); string(out) != string(clean) {
		t.Errorf("a clean answer was rewritten: %s", out)
	}
}

// whereServer is a stateless go-sdk server (2026-07-28) with a tool whose
// region argument must be mirrored in Mcp-Param-Region; it records the
// Mcp-Param-Region of each tools/call and the methods it is sent.
func whereServer(t *testing.T) (url string, regions, methods func() []string) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "headers", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{
		Name: "where",
		InputSchema: map[string]any{"type": "object", "properties": map[string]any{
			"region": map[string]any{"type": "string", "x-mcp-header": "Region"},
		}},
	}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in struct {
			Region string `json:"region"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &in)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Region}}}, nil
	})
	var mu sync.Mutex
	var seenRegions, seenMethods []string
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seenMethods = append(seenMethods, r.Header.Get("Mcp-Method"))
		if r.Header.Get("Mcp-Method") == "tools/call" {
			seenRegions = append(seenRegions, r.Header.Get("Mcp-Param-Region"))
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	get := func(s *[]string) func() []string {
		return func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(*s)
		}
	}
	return hs.URL + "/mcp", get(&seenRegions), get(&seenMethods)
}

// A client that calls the tool without listing the tools in this session
// (it kept its list from an earlier one) gets its answer: the server's
// header mismatch makes the proxy list the tools itself and call again.
func TestProxyParamHeaders_SEP2243_UnlistedTool(t *testing.T) {
	url, regions, methods := whereServer(t)
	d := &demo{home: privateDir(t), url: url}
	p := d.startProxy(t, runOpts{})
	cs := p.client(t, nil, nil)
	defer cs.Close()
	res, err := cs.CallTool(testCtx(t, 10*time.Second), &mcp.CallToolParams{Name: "where", Arguments: map[string]any{"region": "eu"}})
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "eu" {
		t.Fatalf("where: %v %+v", err, res)
	}
	if got, want := regions(), []string{"", "eu"}; !slices.Equal(got, want) {
		t.Errorf("Mcp-Param-Region of the calls = %q, want %q", got, want)
	}
	if got, want := methods(), []string{"server/discover", "tools/call", "tools/list", "tools/call"}; !slices.Equal(got, want) {
		t.Errorf("methods = %q, want %q", got, want)
	}
}

// Through the proxy, a 2026-07-28 client calls a tool whose argument the
// server (go-sdk, which checks) wants mirrored in Mcp-Param-Region: the
// proxy learned the mark from tools/list and sets the header.
func TestProxyParamHeaders_SEP2243(t *testing.T) {
	url, regions, _ := whereServer(t)
	d := &demo{home: privateDir(t), url: url}
	p := d.startProxy(t, runOpts{})
	cs := p.client(t, nil, nil)
	defer cs.Close()
	ctx := testCtx(t, 10*time.Second)
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"us-west1", " café "} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "where", Arguments: map[string]any{"region": region}})
		if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != region {
			t.Fatalf("where(%q): %v %+v", region, err, res)
		}
	}
	if got, want := regions(), []string{"us-west1", "=?base64?IGNhZsOpIA==?="}; !slices.Equal(got, want) {
		t.Errorf("Mcp-Param-Region = %q, want %q", got, want)
	}
}

// Any argument value yields a header value that is a valid field value
// (visible ASCII, no white space at the ends) and that gives back the
// argument: a string unwrapped from base64 if wrapped, a boolean or an
// integer as written.
func FuzzParamValue(f *testing.F) {
	for _, s := range []string{`"us-west1"`, `" x"`, `"café"`, `"=?base64?x?="`, `true`, `42`, `-0`, `1e3`, `null`, `"\u0000"`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, ok := paramValue(raw)
		if !ok {
			return
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				t.Fatalf("paramValue(%q) = %q: byte %#x is no visible ASCII", raw, v, v[i])
			}
		}
		if v != strings.TrimSpace(v) {
			t.Fatalf("paramValue(%q) = %q: white space at an end", raw, v)
		}
		var want any
		if json.Unmarshal(raw, &want) != nil {
			t.Fatalf("paramValue(%q) = %q for a value that is not JSON", raw, v)
		}
		switch w := want.(type) {
		case string:
			got := v
			if inner, wrapped := strings.CutPrefix(v, base64Open); wrapped && strings.HasSuffix(inner, base64Close) {
				dec, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(inner, base64Close))
				if err != nil {
					t.Fatalf("paramValue(%q) = %q: %v", raw, v, err)
				}
				got = string(dec)
			}
			if got != w {
				t.Fatalf("paramValue(%q) = %q, which gives back %q", raw, v, got)
			}
		case bool:
			if v != strconv.FormatBool(w) {
				t.Fatalf("paramValue(%q) = %q", raw, v)
			}
		case float64:
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || float64(n) != w {
				t.Fatalf("paramValue(%q) = %q, not the integer %v", raw, v, w)
			}
		default:
			t.Fatalf("paramValue(%q) = %q for a %T", raw, v, want)
		}
	})
}

// Mcp-Name carries a name that is not plain visible ASCII wrapped in
// base64, as Mcp-Param values do (2026-07-28).
func TestHeaders_SEP2243_McpName(t *testing.T) {
	p := &proxy{protocolVersion: protocol20260728}
	for name, want := range map[string]string{"echo": "echo", "café": "=?base64?Y2Fmw6k=?=", "a\nb": "=?base64?YQpi?="} {
		line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": name}})
		m := &message{raw: line}
		m.envs, _ = decodeEnvelopes(line)
		h := http.Header{}
		p.headers(h, m)
		if got := h.Get("Mcp-Name"); got != want {
			t.Errorf("Mcp-Name for %q = %q, want %q", name, got, want)
		}
	}
}

// On 2025-11-25 the marks mean nothing: a tools/list answer passes as it
// is, whatever its marks.
func TestDispatch_SEP2243_OnlyOn2026(t *testing.T) {
	for version, tracked := range map[string]bool{"2025-11-25": false, protocol20260728: true} {
		p := &proxy{protocolVersion: version, logf: func(string, ...any) {}}
		p.dispatch(context.Background(), []byte(`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`))
		if got := p.listIDs["9"]; got != tracked {
			t.Errorf("%s: tools/list answer read for marks = %v, want %v", version, got, tracked)
		}
	}
}
