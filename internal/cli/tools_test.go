package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// tools logs in when needed (the server's challenge starts it) and lists
// the tools; --json gives their full descriptions.
func TestTools(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	r := d.run(t, "tools", d.url)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, name := range []string{"whoami", "echo", "write-note"} {
		if !strings.Contains(r.out, name) {
			t.Errorf("tools lacks %s", name)
		}
	}
	if d.as.Stats().AuthorizationRequests != 1 {
		t.Errorf("authorization requests = %d", d.as.Stats().AuthorizationRequests)
	}
	assertNoSecrets(t, "tools", r.out+r.err, d.secrets(t))

	r = d.run(t, "tools", "--json", "--no-login", d.url)
	var tools []map[string]any
	if err := json.Unmarshal([]byte(r.out), &tools); err != nil || len(tools) != 3 {
		t.Fatalf("tools --json: %v, %d tools", err, len(tools))
	}
	if d.as.Stats().AuthorizationRequests != 1 {
		t.Error("stored credentials were not reused")
	}
}

// call prints the tool's text; progress notifications go to stderr; a
// call that needs more scope steps up (STEP-1); a tool error exits 1.
func TestCall(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	f, out, errOut := d.factory(runOpts{})
	code := Execute(testCtx(t, time.Minute), f, []string{"--store", "file", "call", d.url, "echo", `{"text":"hello there"}`})
	if code != 0 || out.String() != "hello there\n" {
		t.Fatalf("echo: exit %d, stdout %q", code, out)
	}
	// go-sdk handles notifications on a goroutine of their own.
	if !eventually(func() bool { return strings.Contains(errOut.String(), "progress: 1/1 echoing") }) {
		t.Errorf("progress notification not shown: %q", errOut)
	}

	// The first login asked for the challenge's scope (mcp:read);
	// write-note needs mcp:write: 403 insufficient_scope, step-up.
	r := d.run(t, "call", d.url, "write-note", `{"text":"a note"}`)
	if r.code != 0 || !strings.Contains(r.out, "stored note 1") {
		t.Fatalf("write-note: exit %d, stdout %q", r.code, r.out)
	}
	if n := d.mcp.Stats().Forbidden; n != 1 {
		t.Errorf("403s = %d, want 1 (one step-up)", n)
	}
	if n := d.as.Stats().AuthorizationRequests; n != 2 {
		t.Errorf("authorization requests = %d, want 2 (login, step-up)", n)
	}
	if notes := d.mcp.Notes(); len(notes) != 1 || notes[0] != "a note" {
		t.Errorf("notes = %q", notes)
	}

	// Arguments from stdin, and --json.
	r = d.runWith(t, runOpts{stdin: `{"text":"from stdin"}`}, "call", "--json", d.url, "echo", "-")
	var res struct {
		Content []struct{ Text string } `json:"content"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res.Content) != 1 || res.Content[0].Text != "from stdin" {
		t.Errorf("call --json: %v %q", err, r.out)
	}

	// whoami's structured result speaks for the demo user.
	r = d.run(t, "call", "--json", d.url, "whoami")
	if !strings.Contains(r.out, `"subject": "demo-user"`) {
		t.Errorf("whoami: %q", r.out)
	}

	// A tool that does not exist.
	r = d.run(t, "call", d.url, "nope")
	if r.code == 0 {
		t.Error("calling an unknown tool succeeded")
	}
	// Bad arguments are a usage error.
	r = d.run(t, "call", d.url, "echo", "[1,2]")
	if r.code != ExitUsage {
		t.Errorf("bad arguments: exit %d", r.code)
	}
	assertNoSecrets(t, "call", r.out+r.err, d.secrets(t))
}

// --no-login fails with the command to run, and starts nothing.
func TestToolsNoLogin(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true})
	r := d.run(t, "tools", "--no-login", d.url)
	if r.code != ExitLoginRequired || !strings.Contains(r.err, "mcpauth login "+d.url) {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
	if d.as.Stats().AuthorizationRequests != 0 {
		t.Error("a login started")
	}
}
