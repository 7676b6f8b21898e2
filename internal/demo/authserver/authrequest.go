package authserver

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is a pending or approved authorization request. The storage
// keeps the canonical copy under its lock and hands out clones, so op never
// reads a value that another request is changing.
type authRequest struct {
	id              string
	clientID        string
	redirectURI     string
	state           string
	nonce           string
	responseType    oidc.ResponseType
	responseMode    oidc.ResponseMode
	challenge       *oidc.CodeChallenge
	scopes          []string // granted (after filtering)
	offlineNote     string   // why offline_access was dropped, if it was
	resource        string   // RFC 8707 resource, "" if none
	csrf            string   // consent form token
	created         time.Time
	codeIssued      time.Time
	code            string
	done            bool
	subject         string
	authTime        time.Time
	defaultAudience string // audience when no resource was given
}

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// GetAudience is the access token audience: the RFC 8707 resource the
// request was bound to (RFC 8707 §2), else the configured default, else the
// client id. The ID token gets the client id instead (see idTokenView).
func (a *authRequest) GetAudience() []string {
	return audience(a.resource, a.defaultAudience, a.clientID)
}

// LogValue keeps state, nonce and the PKCE challenge out of the logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.id),
		slog.String("client_id", a.clientID),
		slog.Any("scopes", a.scopes),
		slog.String("resource", a.resource),
	)
}

func audience(resource, fallback, clientID string) []string {
	switch {
	case resource != "":
		return []string{resource}
	case fallback != "":
		return []string{fallback}
	default:
		return []string{clientID}
	}
}
