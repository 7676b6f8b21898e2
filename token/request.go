package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/internal/redact"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/scope"
)

// maxResponseBytes bounds a token response.
const maxResponseBytes = 1 << 20

// maxExpiresIn clamps expires_in: a larger value is treated as unknown.
const maxExpiresIn = 10 * 365 * 24 * time.Hour

// DefaultTimeout bounds each token request when Endpoint.Timeout is 0,
// whatever the http.Client's own timeout.
const DefaultTimeout = 30 * time.Second

// Endpoint is where and how to make token requests.
type Endpoint struct {
	URL    string // the token_endpoint
	Issuer string // recorded in every token obtained (AS-2)
	Auth   ClientAuth
	// Client sends the requests; nil means http.DefaultClient. Its
	// redirect policy is replaced: a token request follows redirects only
	// within the endpoint's origin (urlcheck.CheckRedirect), since a 307
	// would resend the code, verifier or secret.
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each request, response included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

func (ep *Endpoint) timeout() time.Duration {
	if ep.Timeout > 0 {
		return ep.Timeout
	}
	return DefaultTimeout
}

// Error is an error response from the token endpoint (RFC 6749 §5.2), or
// a response that could not be used. It never holds a credential.
type Error struct {
	Endpoint    string
	StatusCode  int
	Code        string // such as invalid_grant, invalid_client, invalid_target
	Description string
	// Reason explains a response that was not an RFC 6749 error body.
	Reason string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("token request to %s failed", e.Endpoint)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Exchange redeems an authorization code (RFC 6749 §4.1.3) with its PKCE
// verifier (RFC 7636 §4.5) and the resource (RFC 8707 §2.2). scopes are the
// scopes requested, recorded when the response does not name the scope
// granted.
func (ep *Endpoint) Exchange(ctx context.Context, code, verifier, redirectURI, resource string, scopes []string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
	}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	return ep.Do(ctx, form, scopes)
}

// Refresh exchanges a refresh token (RFC 6749 §6) for a new access token
// for resource (RFC 8707 §2.2; "" omits the parameter). When the response
// carries no refresh token, the old one is kept (RFC 6749 §6 lets the
// server keep it valid).
func (ep *Endpoint) Refresh(ctx context.Context, old *Token, resource string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.RefreshToken},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	if len(old.Scope) > 0 {
		form.Set("scope", scope.Join(old.Scope))
	}
	t, err := ep.Do(ctx, form, old.Scope)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = old.RefreshToken
	}
	return t, nil
}

// Do makes a token request with form, which must hold grant_type and the
// grant's parameters; the client's authentication is added here.
func (ep *Endpoint) Do(ctx context.Context, form url.Values, requested []string) (*Token, error) {
	raw, secrets, err := ep.post(ctx, "token request", form)
	if err != nil {
		return nil, err
	}
	return ep.parseToken(raw, http.StatusOK, requested, secrets...)
}

// Post sends a token endpoint request whose answer is not an access
// token response of this package, such as an RFC 8693 token exchange, in
// the way [Endpoint.Do] sends one: the endpoint's client authentication,
// redirects only within its origin, its timeout, the answer bounded. It
// returns the body of a 200 answer. Any other answer is an *Error, whose
// server text is kept without the request's credentials. what names the
// request in errors.
func (ep *Endpoint) Post(ctx context.Context, what string, form url.Values) ([]byte, error) {
	raw, _, err := ep.post(ctx, what, form)
	return raw, err
}

// post is Do and Post up to the body of a 200 answer, which it returns
// with the request's credentials, for keeping them out of later errors.
func (ep *Endpoint) post(ctx context.Context, what string, form url.Values) ([]byte, []string, error) {
	if _, err := urlcheck.HTTPSOrLoopback("token_endpoint", ep.URL); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, ep.timeout())
	defer cancel()
	resp, raw, secrets, err := postForm(ctx, ep.Client, what, ep.URL, ep.Auth, form)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > maxResponseBytes {
		return nil, nil, &Error{Endpoint: ep.URL, StatusCode: resp.StatusCode, Reason: "response larger than 1 MiB"}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, parseError(ep.URL, resp.StatusCode, raw, secrets...)
	}
	return raw, secrets, nil
}

// postForm POSTs form to endpoint with the client's authentication, through
// a client that follows redirects only within the endpoint's origin, and
// returns the response (its body read, at most maxResponseBytes+1 bytes)
// and the credentials the request carried, for scrubbing errors. what
// names the request in errors, such as "token request".
func postForm(ctx context.Context, hc *http.Client, what, endpoint string, auth ClientAuth, form url.Values) (*http.Response, []byte, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if auth != nil {
		if err := auth.Apply(req, form, endpoint); err != nil {
			return nil, nil, nil, fmt.Errorf("client authentication: %w", err)
		}
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	secrets := secretsOf(req, form)
	resp, err := urlcheck.Client(hc).Do(req)
	if err != nil {
		// url.Error names the endpoint, never the form; a redirect's
		// target, which the server chose, is scrubbed.
		return nil, nil, nil, fmt.Errorf("%s to %s: %w", what, endpoint, scrub(err, secrets))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s to %s: reading response: %w", what, endpoint, err)
	}
	return resp, raw, secrets, nil
}

// secretParams are the token request parameters that carry credentials.
var secretParams = []string{"code", "code_verifier", "client_secret", "refresh_token",
	"client_assertion", "assertion", "subject_token", "actor_token", "password", "token"}

// secretsOf returns the credentials a token request carries: the values of
// secretParams, the client secret of HTTP Basic authentication, and the
// Authorization and DPoP headers.
func secretsOf(req *http.Request, form url.Values) []string {
	var out []string
	for _, p := range secretParams {
		out = append(out, form[p]...)
	}
	if _, pw, ok := req.BasicAuth(); ok {
		out = append(out, pw)
		if raw, err := url.QueryUnescape(pw); err == nil {
			out = append(out, raw)
		}
	}
	out = append(out, req.Header.Values("Authorization")...)
	out = append(out, req.Header.Values("DPoP")...)
	return out
}

// scrub removes the request's credentials from a redirect's target, which
// the server chose, in err: a hostile server could put them there, and
// errors end up in logs.
func scrub(err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact.Secrets(ue.URL, secrets...)
	}
	err = urlcheck.CleanError(err)
	var re *urlcheck.RedirectError
	if errors.As(err, &re) {
		re.From, re.To = redact.Secrets(re.From, secrets...), redact.Secrets(re.To, secrets...)
	}
	return err
}

// parseError reads an error response (RFC 6749 §5.2). The server's text
// is kept without the request's credentials (secrets), which a hostile
// server could echo, and made safe to print.
func parseError(endpoint string, status int, raw []byte, secrets ...string) error {
	e := &Error{Endpoint: endpoint, StatusCode: status}
	defer func() {
		e.Code = redact.Text(redact.Secrets(e.Code, secrets...))
		e.Description = redact.Text(redact.Secrets(e.Description, secrets...))
	}()
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		e.Code, e.Description = body.Error, body.ErrorDescription
	} else {
		e.Reason = "the response is not an OAuth error object"
	}
	return e
}

// response is the RFC 6749 §5.1 access token response.
type response struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	RefreshToken string          `json:"refresh_token"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Scope        string          `json:"scope"`
}

// parseToken reads an access token response (RFC 6749 §5.1). secrets are
// the request's credentials, kept out of any error.
func (ep *Endpoint) parseToken(raw []byte, status int, requested []string, secrets ...string) (*Token, error) {
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &Error{Endpoint: ep.URL, StatusCode: status, Reason: "the response is not a JSON token response"}
	}
	if r.AccessToken == "" {
		return nil, &Error{Endpoint: ep.URL, StatusCode: status, Reason: "the response lacks access_token"}
	}
	switch {
	case r.TokenType == "":
		return nil, &Error{Endpoint: ep.URL, StatusCode: status, Reason: "the response lacks token_type"}
	case !strings.EqualFold(r.TokenType, "Bearer") && !strings.EqualFold(r.TokenType, "DPoP"):
		// The value is shown, but never the tokens of the same response.
		shown := redact.Text(redact.Secrets(r.TokenType, append([]string{r.AccessToken, r.RefreshToken}, secrets...)...))
		return nil, &Error{Endpoint: ep.URL, StatusCode: status, Reason: fmt.Sprintf("unsupported token_type %q", shown)}
	}
	now := time.Now()
	if ep.Now != nil {
		now = ep.Now()
	}
	t := &Token{
		Token: oauth2.Token{
			AccessToken:  r.AccessToken,
			TokenType:    r.TokenType,
			RefreshToken: r.RefreshToken,
		},
		Scope:    scope.Parse(r.Scope),
		Issuer:   ep.Issuer,
		IssuedAt: now,
	}
	if len(t.Scope) == 0 {
		t.Scope = scope.Normalize(requested)
	}
	if d, ok := expiresIn(r.ExpiresIn); ok {
		t.Expiry = now.Add(d)
	}
	return t, nil
}

// expiresIn reads expires_in, a number of seconds (RFC 6749 §5.1), also
// when sent as a string. Zero, negative, non-finite or absurdly large
// values count as unknown.
func expiresIn(raw json.RawMessage) (time.Duration, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		if _, err := fmt.Sscanf(s, "%g", &f); err != nil {
			return 0, false
		}
	}
	if math.IsNaN(f) || f <= 0 || f > maxExpiresIn.Seconds() {
		return 0, false
	}
	d := time.Duration(f * float64(time.Second))
	if d <= 0 {
		return 0, false // a positive value too small for a Duration
	}
	return d, true
}
