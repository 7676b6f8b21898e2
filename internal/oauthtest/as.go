package oauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Values the fake authorization server puts in the secrets it mints, so
// a test can look for leaks with strings.Contains.
const (
	AccessTokenMarker  = "AT-SECRET"
	RefreshTokenMarker = "RT-SECRET"
	CodeMarker         = "CODE-SECRET"
	ClientSecretMarker = "CS-SECRET"
)

// ASConfig configures an [AS]. The zero value is a well-behaved server:
// issuer at the server's origin, RFC 8414 metadata at the path-inserted
// well-known URL, dynamic registration, PKCE S256, RFC 9207 iss advertised
// and sent, access tokens without expiry and without refresh tokens.
type ASConfig struct {
	// IssuerPath is appended to the server's origin to form the issuer,
	// such as "/tenant1". The endpoints live under it.
	IssuerPath string
	// ScopesSupported is the metadata's scopes_supported; nil omits it.
	ScopesSupported []string

	// NoMetadata serves no metadata document at all.
	NoMetadata bool
	// MetadataPaths are the paths the metadata is served at; nil means the
	// RFC 8414 path-inserted one for the issuer.
	MetadataPaths []string
	// Metadata, if set, edits the metadata document before it is served:
	// delete a member, change the issuer, point an endpoint elsewhere.
	Metadata func(doc map[string]any)

	// NoRegistration leaves registration_endpoint out of the metadata (the
	// endpoint itself still answers).
	NoRegistration bool
	// RegisterError, if set, refuses every registration with it.
	RegisterError *Error
	// IssueSecrets makes registrations confidential clients, with a
	// client_secret and client_secret_basic.
	IssueSecrets bool

	// NoIss neither advertises authorization_response_iss_parameter_supported
	// nor sends iss.
	NoIss bool
	// AuthorizeResponse, if set, edits the query of the redirect to the
	// client before it is sent: drop state, forge iss, add an error.
	AuthorizeResponse func(q url.Values)

	// RefreshTokens issues a refresh token with each access token.
	RefreshTokens bool
	// ExpiresIn is the expires_in of access tokens; 0 omits it.
	ExpiresIn int
	// TokenError, if set, is called for each token request; a non-nil
	// result refuses the request with it.
	TokenError func(form url.Values) *Error
	// TokenResponse, if set, edits each successful token response before
	// it is sent: drop token_type, set an absurd expires_in.
	TokenResponse func(out map[string]any)
}

// TokenInfo is what the fake authorization server knows of a token it
// issued.
type TokenInfo struct {
	Issuer   string
	ClientID string
	Resource string
	Scopes   []string
}

type grant struct {
	clientID, redirectURI, challenge, resource string
	scopes                                     []string
}

type client struct {
	secret   string
	metadata map[string]any
}

// AS is a fake OAuth 2.1 authorization server.
type AS struct {
	*Server
	// Issuer is the server's issuer identifier.
	Issuer string
	// AuthorizePath, TokenPath and RegisterPath are the endpoint paths.
	AuthorizePath, TokenPath, RegisterPath string

	tag string // distinguishes the values this server mints

	mu       sync.Mutex
	cfg      ASConfig
	metaPath []string
	n        int
	clients  map[string]*client
	codes    map[string]grant
	access   map[string]TokenInfo
	refresh  map[string]TokenInfo
}

// NewAS starts a fake authorization server on its own [Server].
func NewAS(t testing.TB, cfg ASConfig) *AS { return MountAS(NewServer(t), cfg) }

// MountAS adds a fake authorization server to s, which may also host a
// [Resource] (a 2025-03-26 server that is its own authorization server).
func MountAS(s *Server, cfg ASConfig) *AS {
	a := &AS{
		Server:  s,
		Issuer:  s.URL + cfg.IssuerPath,
		tag:     s.URL[strings.LastIndex(s.URL, ":")+1:] + strings.ReplaceAll(cfg.IssuerPath, "/", "."),
		clients: map[string]*client{},
		codes:   map[string]grant{},
		access:  map[string]TokenInfo{},
		refresh: map[string]TokenInfo{},
	}
	a.AuthorizePath = cfg.IssuerPath + "/authorize"
	a.TokenPath = cfg.IssuerPath + "/token"
	a.RegisterPath = cfg.IssuerPath + "/register"
	s.Handle(a.AuthorizePath, a.authorize)
	s.Handle(a.TokenPath, a.token)
	s.Handle(a.RegisterPath, a.register)
	a.cfg.IssuerPath = cfg.IssuerPath
	a.Configure(func(c *ASConfig) { *c = cfg })
	return a
}

// Configure changes the configuration; IssuerPath cannot change.
func (a *AS) Configure(f func(*ASConfig)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := a.cfg.IssuerPath
	f(&a.cfg)
	a.cfg.IssuerPath = path
	for _, p := range a.metaPath {
		a.Server.Unhandle(p)
	}
	a.metaPath = nil
	if a.cfg.NoMetadata {
		return
	}
	a.metaPath = a.cfg.MetadataPaths
	if a.metaPath == nil {
		a.metaPath = []string{"/.well-known/oauth-authorization-server" + a.cfg.IssuerPath}
	}
	for _, p := range a.metaPath {
		a.Server.Handle(p, a.metadata)
	}
}

func (a *AS) config() ASConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg
}

// MetadataDocument returns the metadata document as it would be served.
func (a *AS) MetadataDocument() map[string]any {
	cfg := a.config()
	doc := map[string]any{
		"issuer":                                a.Issuer,
		"authorization_endpoint":                a.Server.URL + a.AuthorizePath,
		"token_endpoint":                        a.Server.URL + a.TokenPath,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post"},
	}
	if !cfg.NoRegistration {
		doc["registration_endpoint"] = a.Server.URL + a.RegisterPath
	}
	if cfg.ScopesSupported != nil {
		doc["scopes_supported"] = cfg.ScopesSupported
	}
	if !cfg.NoIss {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	if cfg.Metadata != nil {
		cfg.Metadata(doc)
	}
	return doc
}

func (a *AS) metadata(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, a.MetadataDocument())
}

func (a *AS) next() int {
	a.n++
	return a.n
}

func (a *AS) register(w http.ResponseWriter, r *http.Request) {
	cfg := a.config()
	if r.Method != http.MethodPost {
		(&Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request"}).Write(w)
		return
	}
	if cfg.RegisterError != nil {
		cfg.RegisterError.Write(w)
		return
	}
	var md map[string]any
	if err := json.NewDecoder(r.Body).Decode(&md); err != nil {
		(&Error{Code: "invalid_client_metadata", Description: err.Error()}).Write(w)
		return
	}
	a.mu.Lock()
	n := a.next()
	id := fmt.Sprintf("client-%s-%d", a.tag, n)
	c := &client{metadata: md}
	if cfg.IssueSecrets {
		c.secret = fmt.Sprintf("%s-%s-%d", ClientSecretMarker, a.tag, n)
	}
	a.clients[id] = c
	a.mu.Unlock()

	out := map[string]any{}
	for k, v := range md {
		out[k] = v
	}
	out["client_id"] = id
	out["client_id_issued_at"] = 1700000000
	if c.secret != "" {
		out["client_secret"] = c.secret
		out["client_secret_expires_at"] = 0
		out["token_endpoint_auth_method"] = "client_secret_basic"
	}
	WriteJSON(w, http.StatusCreated, out)
}

// authorize approves every well-formed request at once, as the
// conformance harness's mock does: 302 to redirect_uri with code, state
// and iss.
func (a *AS) authorize(w http.ResponseWriter, r *http.Request) {
	cfg := a.config()
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	resp := url.Values{}
	switch {
	case q.Get("response_type") != "code":
		resp.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		resp.Set("error", "invalid_request")
		resp.Set("error_description", "PKCE S256 required")
	case q.Get("client_id") == "":
		resp.Set("error", "invalid_request")
	default:
		a.mu.Lock()
		code := fmt.Sprintf("%s-%s-%d", CodeMarker, a.tag, a.next())
		a.codes[code] = grant{
			clientID:    q.Get("client_id"),
			redirectURI: q.Get("redirect_uri"),
			challenge:   q.Get("code_challenge"),
			resource:    q.Get("resource"),
			scopes:      strings.Fields(q.Get("scope")),
		}
		a.mu.Unlock()
		resp.Set("code", code)
	}
	if s, ok := q["state"]; ok {
		resp["state"] = s
	}
	if !cfg.NoIss {
		resp.Set("iss", a.Issuer)
	}
	if cfg.AuthorizeResponse != nil {
		cfg.AuthorizeResponse(resp)
	}
	sep := "?"
	if redirect.RawQuery != "" {
		sep = "&"
	}
	http.Redirect(w, r, redirect.String()+sep+resp.Encode(), http.StatusFound)
}

func (a *AS) token(w http.ResponseWriter, r *http.Request) {
	cfg := a.config()
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		(&Error{Code: "invalid_request"}).Write(w)
		return
	}
	form := r.PostForm
	if cfg.TokenError != nil {
		if e := cfg.TokenError(form); e != nil {
			e.Write(w)
			return
		}
	}
	clientID := form.Get("client_id")
	secret := form.Get("client_secret")
	if id, s, ok := r.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(s)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[clientID]; ok && c.secret != "" && c.secret != secret {
		(&Error{Status: http.StatusUnauthorized, Code: "invalid_client"}).Write(w)
		return
	}
	var info TokenInfo
	switch form.Get("grant_type") {
	case "authorization_code":
		g, ok := a.codes[form.Get("code")]
		delete(a.codes, form.Get("code"))
		switch {
		case !ok:
			(&Error{Code: "invalid_grant", Description: "unknown or used code"}).Write(w)
			return
		case g.clientID != clientID:
			(&Error{Code: "invalid_grant", Description: "code issued to another client"}).Write(w)
			return
		case g.redirectURI != form.Get("redirect_uri"):
			(&Error{Code: "invalid_grant", Description: "redirect_uri differs"}).Write(w)
			return
		case S256(form.Get("code_verifier")) != g.challenge:
			(&Error{Code: "invalid_grant", Description: "PKCE verification failed"}).Write(w)
			return
		}
		info = TokenInfo{Issuer: a.Issuer, ClientID: clientID, Resource: g.resource, Scopes: g.scopes}
	case "refresh_token":
		old, ok := a.refresh[form.Get("refresh_token")]
		if !ok || old.ClientID != clientID {
			(&Error{Code: "invalid_grant", Description: "unknown refresh token"}).Write(w)
			return
		}
		info = old
		if s := strings.Fields(form.Get("scope")); len(s) > 0 {
			info.Scopes = s
		}
	default:
		(&Error{Code: "unsupported_grant_type"}).Write(w)
		return
	}
	n := a.next()
	at := fmt.Sprintf("%s-%s-%d", AccessTokenMarker, a.tag, n)
	a.access[at] = info
	out := map[string]any{"access_token": at, "token_type": "Bearer"}
	if len(info.Scopes) > 0 {
		out["scope"] = strings.Join(info.Scopes, " ")
	}
	if cfg.ExpiresIn > 0 {
		out["expires_in"] = cfg.ExpiresIn
	}
	if cfg.RefreshTokens {
		if rt := form.Get("refresh_token"); rt != "" {
			out["refresh_token"] = rt
		} else {
			rt = fmt.Sprintf("%s-%s-%d", RefreshTokenMarker, a.tag, n)
			a.refresh[rt] = info
			out["refresh_token"] = rt
		}
	}
	if cfg.TokenResponse != nil {
		cfg.TokenResponse(out)
	}
	WriteJSON(w, http.StatusOK, out)
}

// Lookup returns what the server knows of an access token it issued.
func (a *AS) Lookup(accessToken string) (TokenInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	info, ok := a.access[accessToken]
	return info, ok
}

// Clients returns the client ids registered dynamically, sorted.
func (a *AS) Clients() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for id := range a.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Authorizations returns the requests to the authorization endpoint.
func (a *AS) Authorizations() []*Request { return a.RequestsTo(a.AuthorizePath) }

// TokenRequests returns the requests to the token endpoint.
func (a *AS) TokenRequests() []*Request { return a.RequestsTo(a.TokenPath) }

// Registrations returns the requests to the registration endpoint.
func (a *AS) Registrations() []*Request { return a.RequestsTo(a.RegisterPath) }

// S256 returns the PKCE S256 code challenge of verifier (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
