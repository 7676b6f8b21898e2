package walkthrough

import (
	"fmt"
	"io"
	"strings"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/scope"
)

// narrator writes the story for a person: readable, colourless unless
// asked for colour.
type narrator struct {
	out   io.Writer
	color bool
	n     int
}

const (
	bold   = "\x1b[1m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

func (n *narrator) printf(style, format string, args ...any) {
	if n.out == nil {
		return
	}
	line := fmt.Sprintf(format, args...)
	if n.color && style != "" {
		line = style + line + reset
	}
	fmt.Fprintln(n.out, line)
}

func (n *narrator) title(s string) { n.printf(bold, "%s", s) }

func (n *narrator) step(s string) {
	n.n++
	n.printf(bold+cyan, "\n%d. %s", n.n, s)
}

func (n *narrator) info(format string, args ...any) { n.printf("", "   "+format, args...) }
func (n *narrator) ok(format string, args ...any)   { n.printf(green, "   ✓ "+format, args...) }
func (n *narrator) warn(format string, args ...any) { n.printf(yellow, "   ! "+format, args...) }

// event narrates one step of the client's flow and records it in rep.
func (n *narrator) event(e mcpauth.Event, rep *Report) {
	switch e.Kind {
	case mcpauth.EventResourceMetadata:
		if e.ResourceMetadata != nil {
			n.info("protected resource metadata (RFC 9728) at %s", e.ResourceMetadata.URL)
			n.info("  resource %s, authorization server %s, scopes_supported %q",
				e.ResourceMetadata.Resource, strings.Join(e.ResourceMetadata.AuthorizationServers, " "), e.ResourceMetadata.ScopesSupported)
		} else {
			n.info("%s", e.Message)
		}
	case mcpauth.EventServerMetadata:
		md := e.ServerMetadata
		n.info("authorization server metadata at %s", md.URL)
		n.info("  PKCE %q, iss parameter %v, registration %s, client ID metadata documents %v",
			md.CodeChallengeMethodsSupported, md.AuthorizationResponseIssParameterSupported, orNone(md.RegistrationEndpoint), md.ClientIDMetadataDocumentSupported)
		n.info("  scopes_supported %q", md.ScopesSupported)
	case mcpauth.EventRegistration:
		rep.Registration = string(e.Client.Kind)
		n.info("registration: %s", e.Message)
	case mcpauth.EventScope:
		sel := e.Scope
		if rep.ScopeRequested == "" {
			rep.ScopeRequested, rep.ScopeRule = sel.String(), string(sel.Source)
			rep.OfflineAccessAdded, rep.PromptConsent = sel.OfflineAccessAdded, sel.PromptConsent()
		} else {
			rep.StepUpScope = sel.String()
		}
		n.info("scope: %s", e.Message)
		if sel.PromptConsent() {
			n.ok("offline_access requested with prompt=consent (SEP-2207; OpenID Connect Core §11)")
		} else if !scope.Contains(sel.Scopes, scope.OfflineAccess) {
			n.warn("offline_access not requested: no refresh token can be expected")
		}
	case mcpauth.EventAuthorization:
		n.info("%s", e.Message)
	case mcpauth.EventToken:
		if e.Token.HasRefreshToken {
			rep.RefreshTokenReceived = true
		}
		n.ok("%s", e.Message)
	case mcpauth.EventStepUp:
		rep.StepUp = true
		n.warn("%s", e.Message)
	case mcpauth.EventRefresh:
		rep.Refreshed = true
		n.ok("%s", e.Message)
	default:
		n.info("%s", e.Message)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
