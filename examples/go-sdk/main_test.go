package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
	"github.com/mcpauth/mcpauth/internal/demo/mcpserver"
)

func startDemo(t *testing.T) (*authserver.Server, *mcpserver.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	as, err := authserver.Start(ctx, authserver.Config{AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mcpserver.Start(ctx, mcpserver.Config{AuthServerIssuer: as.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	as.AddResource(ms.URL())
	t.Cleanup(func() { ms.Close(); as.Close() })
	return as, ms
}

// Each way of plugging mcpauth into go-sdk, run as the command runs,
// against the demo servers: the first run logs in (headless), a step-up
// to mcp:write works, and a second run reuses the stored credentials
// without a request to the authorization server.
func TestExample(t *testing.T) {
	for _, tc := range []struct{ transport, url string }{
		{"streamable", ""},
		{"handler", ""},
		{"sse", "sse"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			as, ms := startDemo(t)
			url := ms.URL()
			if tc.url == "sse" {
				url = ms.SSEURL()
			}
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			exec := func(args ...string) string {
				t.Helper()
				var out, errOut bytes.Buffer
				args = append([]string{"-transport", tc.transport, "-store", dir, "-headless"}, append(args, url)...)
				if err := run(ctx, args, &out, &errOut); err != nil {
					t.Fatalf("run %q: %v\nstderr: %s", args, err, errOut.String())
				}
				return out.String()
			}

			out := exec()
			if !strings.Contains(out, "tools: ") || !strings.Contains(out, "whoami") || !strings.Contains(out, `"subject":"demo-user"`) {
				t.Fatalf("first run printed:\n%s", out)
			}
			first := as.Stats()
			if first.AuthorizationRequests != 1 || first.Registrations != 1 {
				t.Fatalf("first run: %+v; want one login, one registration", first)
			}

			out = exec("-tool", "write-note", "-args", `{"text":"from the go-sdk example"}`)
			if !strings.Contains(out, "write-note:") || len(ms.Notes()) != 1 {
				t.Fatalf("write-note after step-up printed:\n%s\nnotes %v", out, ms.Notes())
			}
			stepped := as.Stats()
			if stepped.AuthorizationRequests != 2 || stepped.Registrations != 1 {
				t.Fatalf("after the step-up: %+v; want a second login, still one registration", stepped)
			}

			exec("-tool", "write-note", "-args", `{"text":"again"}`)
			if last := as.Stats(); last.AuthorizationRequests != 2 || last.Registrations != 1 || last.TokenRequests["refresh_token"] != 0 {
				t.Fatalf("a third run reached the authorization server: %+v", last)
			}
		})
	}
}
