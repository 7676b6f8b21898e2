package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/walkthrough"
)

// TestDemo_JSON runs `mcpauth demo --json` with injected streams: SEP-2207
// pays off (a refresh token, used for a refresh), and the step-up happens.
func TestDemo_JSON(t *testing.T) {
	ios, out, errOut := Test("")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := Execute(ctx, NewFactory(ios), []string{"demo", "--json"}); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	var rep walkthrough.Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out.String())
	}
	if !rep.OK || !rep.RefreshTokenReceived || !rep.Refreshed || !rep.StepUp || !rep.OfflineAccessAdded {
		t.Errorf("report = %+v", rep)
	}
	if len(rep.Tools) == 0 || rep.ScopeRequested == "" {
		t.Errorf("report lacks tools or scope: %+v", rep)
	}
}

// TestDemo_Narration: plain text without colour when not on a terminal,
// naming each step of the flow.
func TestDemo_Narration(t *testing.T) {
	ios, out, errOut := Test("")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := Execute(ctx, NewFactory(ios), []string{"demo"}); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	text := out.String()
	if strings.Contains(text, "\x1b[") {
		t.Error("colour codes in output that is not a terminal")
	}
	for _, want := range []string{"protected resource metadata", "authorization server metadata", "registered a new client",
		"offline_access added", "prompt=consent", "with a refresh token", "whoami", "insufficient_scope", "access token refreshed", "flow time"} {
		if !strings.Contains(text, want) {
			t.Errorf("narration lacks %q", want)
		}
	}
}
