package authserver

import (
	"crypto/subtle"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

//go:embed consent.html.tmpl
var consentHTML string

// html/template escapes every value for its context.
var consentTmpl = template.Must(template.New("consent").Parse(consentHTML))

// scopeText explains each scope to a person.
var scopeText = map[string]string{
	ScopeOpenID:        "confirm who you are (an ID token)",
	ScopeProfile:       "see your name",
	ScopeOfflineAccess: "stay connected: keep a refresh token and get new access tokens while you are away, until you revoke it",
	ScopeMCPRead:       "use the MCP server's read tools",
	ScopeMCPWrite:      "use the MCP server's tools that change data (write notes)",
}

type scopeLine struct{ Name, Description string }

type consentPage struct {
	ClientName, ClientID, RedirectOrigin, Resource string
	UserName, Subject                              string
	ViaCIMD                                        bool
	Scopes                                         []scopeLine
	OfflineNote                                    string
	ID, CSRF                                       string
}

// handleConsentPage shows the login-and-consent page for a pending request.
// The demo has a single user, already "signed in".
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.authRequest(r.URL.Query().Get("id"))
	if err != nil {
		http.Error(w, "This authorization request is unknown or has expired. Start again from the application.", http.StatusBadRequest)
		return
	}
	c, err := s.store.client(r.Context(), a.clientID)
	if err != nil {
		http.Error(w, "The application is no longer registered.", http.StatusBadRequest)
		return
	}
	page := consentPage{
		ClientName: c.displayName(), ClientID: c.id, ViaCIMD: c.viaCIMD, Resource: a.resource,
		UserName: s.cfg.UserName, Subject: s.cfg.Subject, OfflineNote: a.offlineNote, ID: a.id, CSRF: a.csrf,
	}
	if u, err := url.Parse(a.redirectURI); err == nil {
		page.RedirectOrigin = u.Scheme + "://" + u.Host
	}
	for _, sc := range a.scopes {
		page.Scopes = append(page.Scopes, scopeLine{sc, scopeText[sc]})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	if err := consentTmpl.Execute(w, page); err != nil {
		s.log.Error("consent page", slog.Any("error", err))
	}
}

// handleConsent takes the Approve/Deny form. It is wrapped in
// http.CrossOriginProtection; the per-request csrf value must match too.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	a, err := s.store.authRequest(r.PostForm.Get("id"))
	if err != nil {
		http.Error(w, "This authorization request is unknown or has expired.", http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(a.csrf)) != 1 {
		http.Error(w, "The form is stale or forged.", http.StatusForbidden)
		return
	}
	buf := newBufferedResponse()
	switch r.PostForm.Get("action") {
	case "approve":
		s.approveAndRespond(buf, r, a.id)
	case "deny":
		s.store.deny(a.id)
		s.log.Info("authorization denied", slog.String("client_id", a.clientID))
		op.AuthRequestError(buf, r, a, oidc.ErrAccessDenied().WithDescription("the user denied the request"), s.authz)
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	s.flushWithIss(w, buf)
}
