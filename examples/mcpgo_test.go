// Package examples tests the example programs that live in modules of
// their own: it builds each and runs it against the demo servers, which
// only this module can start (they are internal packages).
package examples

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
)

// buildMCPGo builds the mcp-go example from the module cache alone
// (GOPROXY=off: a test never reaches the network), or skips.
func buildMCPGo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "mcp-go-example")
	cmd := exec.Command(goCmd, "build", "-o", bin, ".")
	cmd.Dir = "mcp-go"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("GOPROXY=off")) || bytes.Contains(out, []byte("module lookup disabled")) {
			t.Skipf("the mcp-go example's modules are not in the module cache; run `go mod download` in examples/mcp-go first:\n%s", out)
		}
		t.Fatalf("building examples/mcp-go: %v\n%s", err, out)
	}
	return bin
}

// The mcp-go example with mcpauth's http.Client on both of mcp-go's HTTP
// transports: the first run logs in (headless), a write-note steps up to
// mcp:write, and the next run reuses the stored credentials without a
// request to the authorization server.
func TestMCPGoExample(t *testing.T) {
	bin := buildMCPGo(t)
	for _, kind := range []string{"streamable", "sse"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			as, err := authserver.Start(ctx, authserver.Config{AutoApprove: true})
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
			if err != nil {
				t.Fatal(err)
			}
			defer ms.Close()
			as.AddResource(ms.URL())
			url := ms.URL()
			if kind == "sse" {
				url = ms.SSEURL()
			}
			dir := t.TempDir()
			run := func(args ...string) string {
				t.Helper()
				args = append([]string{"-transport", kind, "-store", dir, "-headless"}, append(args, url)...)
				cmd := exec.CommandContext(ctx, bin, args...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("mcp-go example %q: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
				}
				return stdout.String()
			}

			out := run()
			if !strings.Contains(out, "tools: ") || !strings.Contains(out, `"subject":"demo-user"`) {
				t.Fatalf("first run printed:\n%s", out)
			}
			if st := as.Stats(); st.AuthorizationRequests != 1 || st.Registrations != 1 {
				t.Fatalf("first run: %+v; want one login, one registration", st)
			}
			run("-tool", "write-note", "-args", `{"text":"from mcp-go"}`)
			if st := as.Stats(); st.AuthorizationRequests != 2 || st.Registrations != 1 || len(ms.Notes()) != 1 {
				t.Fatalf("after the step-up: %+v, notes %v; want a second login, one registration, one note", st, ms.Notes())
			}
			run("-tool", "write-note", "-args", `{"text":"again"}`)
			if st := as.Stats(); st.AuthorizationRequests != 2 || st.Registrations != 1 || st.TokenRequests["refresh_token"] != 0 {
				t.Fatalf("a third run reached the authorization server: %+v", st)
			}
		})
	}
}
