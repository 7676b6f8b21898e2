package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`

func post(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// PRM-2/PRM-3: 401 names resource_metadata and the base scope, never
// offline_access (SRV-2207).
func TestUnauthorizedChallenge(t *testing.T) {
	e := setup(t, authserver.Config{})
	resp := post(t, e.mcp.URL(), "", listTools)
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.Contains(ch, `resource_metadata="`+e.mcp.ResourceMetadataURL()+`"`) ||
		!strings.Contains(ch, `scope="mcp:read"`) || strings.Contains(ch, "error=") {
		t.Errorf("no token: %d %q", resp.StatusCode, ch)
	}
	if strings.Contains(ch, "offline_access") {
		t.Error("challenge lists offline_access")
	}
	resp = post(t, e.mcp.URL(), "not-a-jwt", listTools)
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, "resource_metadata=") {
		t.Errorf("bad token: %d %q", resp.StatusCode, ch)
	}
	if e.mcp.ResourceMetadataURL() != strings.Replace(e.mcp.URL(), "/mcp", "/.well-known/oauth-protected-resource/mcp", 1) {
		t.Errorf("PRM URL %s is not path-inserted", e.mcp.ResourceMetadataURL())
	}
	if st := e.mcp.Stats(); st.Unauthorized != 2 || st.Requests != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// PRM-4, SRV-2207: the metadata document.
func TestProtectedResourceMetadata(t *testing.T) {
	e := setup(t, authserver.Config{})
	resp, err := http.Get(e.mcp.ResourceMetadataURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&prm); err != nil {
		t.Fatal(err)
	}
	if prm.Resource != e.mcp.URL() || !strings.HasSuffix(prm.Resource, "/mcp") {
		t.Errorf("resource = %q, want %q", prm.Resource, e.mcp.URL())
	}
	if !reflect.DeepEqual(prm.AuthorizationServers, []string{e.as.Issuer()}) {
		t.Errorf("authorization_servers = %v", prm.AuthorizationServers)
	}
	if !reflect.DeepEqual(prm.ScopesSupported, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("scopes_supported = %v", prm.ScopesSupported)
	}
	if e.mcp.Stats().PRMRequests != 1 {
		t.Error("PRM request not counted")
	}
}

// A token with mcp:read lists tools and calls whoami through go-sdk's client;
// echo sends a progress notification the client observes.
func TestReadToken(t *testing.T) {
	e := setup(t, authserver.Config{})
	tok := e.token(t, e.mcp.URL(), "mcp:read")
	progress := make(chan *mcp.ProgressNotificationParams, 1)
	cs := e.connect(t, tok, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { progress <- r.Params },
	})
	ctx := testCtx(t)
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if strings.Join(names, ",") != "echo,whoami,write-note" {
		t.Errorf("tools = %v", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %v", err, res)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var who struct {
		Subject  string   `json:"subject"`
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	}
	_ = json.Unmarshal(raw, &who)
	if who.Subject != "demo-user" || who.ClientID != e.reg.ClientID || !reflect.DeepEqual(who.Scopes, []string{"mcp:read"}) {
		t.Errorf("whoami = %s", raw)
	}

	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}
	params.SetProgressToken("p1")
	res, err = cs.CallTool(ctx, params)
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "hi" {
		t.Fatalf("echo: %v %v", err, res)
	}
	select {
	case p := <-progress:
		if p.ProgressToken != "p1" {
			t.Errorf("progress token = %v", p.ProgressToken)
		}
	case <-time.After(5 * time.Second):
		t.Error("no progress notification")
	}
	if st := e.mcp.Stats(); st.ToolCalls["whoami"] != 1 || st.ToolCalls["echo"] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// STEP-1: write-note without mcp:write is a 403 insufficient_scope naming
// both scopes; with mcp:write it works.
func TestWriteNoteNeedsWriteScope(t *testing.T) {
	e := setup(t, authserver.Config{})
	tok := e.token(t, e.mcp.URL(), "mcp:read")
	resp := post(t, e.mcp.URL(), tok, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write-note","arguments":{"text":"x"}}}`)
	want := `Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="` + e.mcp.ResourceMetadataURL() + `"`
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 403 || !strings.HasPrefix(ch, want) {
		t.Errorf("got %d %q, want 403 %q", resp.StatusCode, ch, want)
	}

	cs := e.connect(t, tok, nil)
	if _, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "write-note", Arguments: map[string]any{"text": "x"}}); err == nil {
		t.Error("go-sdk client: write-note succeeded with mcp:read only")
	}
	if len(e.mcp.Notes()) != 0 {
		t.Error("note stored without mcp:write")
	}

	tok = e.token(t, e.mcp.URL(), "mcp:read", "mcp:write")
	cs = e.connect(t, tok, nil)
	res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "write-note", Arguments: map[string]any{"text": "hello"}})
	if err != nil || res.IsError {
		t.Fatalf("write-note with mcp:write: %v %v", err, res)
	}
	if notes := e.mcp.Notes(); len(notes) != 1 || notes[0] != "hello" {
		t.Errorf("notes = %v", notes)
	}
	if st := e.mcp.Stats(); st.Forbidden != 2 || st.ToolCalls["write-note"] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A token without the base scope gets 403 insufficient_scope for mcp:read.
func TestBaseScopeRequired(t *testing.T) {
	e := setup(t, authserver.Config{})
	tok := e.token(t, e.mcp.URL(), "openid")
	resp := post(t, e.mcp.URL(), tok, listTools)
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 403 || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="mcp:read"`) {
		t.Errorf("%d %q", resp.StatusCode, ch)
	}
}

// TOK-2: a token for another audience, or for none, is rejected.
func TestWrongAudienceRejected(t *testing.T) {
	const other = "http://127.0.0.1:9/other"
	e := setup(t, authserver.Config{Resources: []string{other}})
	for name, resource := range map[string]string{"other resource": other, "no resource": ""} {
		tok := e.token(t, resource, "mcp:read")
		resp := post(t, e.mcp.URL(), tok, listTools)
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("%s: %d %q", name, resp.StatusCode, ch)
		}
	}
}

// An expired token is rejected.
func TestExpiredTokenRejected(t *testing.T) {
	e := setup(t, authserver.Config{AccessTokenLifetime: time.Second})
	tok := e.token(t, e.mcp.URL(), "mcp:read")
	time.Sleep(2100 * time.Millisecond)
	if resp := post(t, e.mcp.URL(), tok, listTools); resp.StatusCode != 401 {
		t.Errorf("expired token: %d", resp.StatusCode)
	}
}

// A token signed by another authorization server is rejected.
func TestForeignIssuerRejected(t *testing.T) {
	e := setup(t, authserver.Config{})
	f := setup(t, authserver.Config{})
	f.as.AddResource(e.mcp.URL())
	tok := f.token(t, e.mcp.URL(), "mcp:read")
	if resp := post(t, e.mcp.URL(), tok, listTools); resp.StatusCode != 401 {
		t.Errorf("foreign token: %d", resp.StatusCode)
	}
}
