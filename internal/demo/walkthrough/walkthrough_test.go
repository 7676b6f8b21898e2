package walkthrough

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRun_REF3_REF4_DemoStory runs the whole demo headless: a refresh token
// is received because offline_access was requested with prompt=consent
// (SEP-2207), the step-up happens, and the forced expiry is met with a
// refresh, not a new authorization.
func TestRun_REF3_REF4_DemoStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := Run(ctx, Options{Out: &out})
	t.Log(out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.OK || !rep.OfflineAccessAdded || !rep.PromptConsent || !rep.RefreshTokenReceived || !rep.StepUp || !rep.Refreshed {
		t.Errorf("report = %+v; want ok, offline_access added with prompt=consent, refresh token received, step-up, refreshed", rep)
	}
	if rep.ScopeRequested != "mcp:read offline_access" || rep.ScopeRule != "challenge" {
		t.Errorf("first scope = %q by %q, want \"mcp:read offline_access\" by challenge", rep.ScopeRequested, rep.ScopeRule)
	}
	if rep.StepUpScope != "mcp:read offline_access mcp:write" {
		t.Errorf("step-up scope = %q, want the union \"mcp:read offline_access mcp:write\"", rep.StepUpScope)
	}
	if rep.Registrations != 1 {
		t.Errorf("registrations = %d, want 1 (the step-up reuses the registration)", rep.Registrations)
	}
	if rep.AuthorizationRequests != 2 {
		t.Errorf("authorization requests = %d, want 2 (login and step-up; the expiry is met by a refresh)", rep.AuthorizationRequests)
	}
	if got := rep.TokenRequests["refresh_token"]; got != 1 {
		t.Errorf("refresh token requests = %d, want 1", got)
	}
	for _, secret := range []string{"access_token", "refresh_token\":"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("narration mentions %q", secret)
		}
	}
}

// TestRun_REF2_NoRefreshTokensWithoutSEP2207 runs the same flow as a client
// that cannot keep refresh tokens: no offline_access, no refresh token, and
// the forced expiry needs a new authorization.
func TestRun_REF2_NoRefreshTokensWithoutSEP2207(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{DisableRefreshTokens: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.OfflineAccessAdded || rep.RefreshTokenReceived || rep.Refreshed {
		t.Errorf("report = %+v; want no offline_access, no refresh token, no refresh", rep)
	}
	if rep.AuthorizationRequests != 3 {
		t.Errorf("authorization requests = %d, want 3 (login, step-up, and again at expiry)", rep.AuthorizationRequests)
	}
}
