package authorize

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"

	"github.com/mcpauth/mcpauth/internal/redact"
)

// Response is the authorization response a redirect carries
// (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 §2).
type Response struct {
	Code             string
	State            string
	Iss              string
	HasIss           bool // iss was present, even if empty
	Error            string
	ErrorDescription string
	ErrorURI         string
}

// ParseResponse reads an authorization response from a redirect's query.
func ParseResponse(q url.Values) Response {
	_, hasIss := q["iss"]
	return Response{
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Iss:              q.Get("iss"),
		HasIss:           hasIss,
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
		ErrorURI:         q.Get("error_uri"),
	}
}

// ErrStateMismatch reports a redirect whose state is missing or is not the
// one sent (STATE-1): it may be forged, so it is discarded.
var ErrStateMismatch = errors.New("the authorization response's state does not match the request; the response was discarded (possible CSRF) — start the login again")

// ErrNoCode reports an authorization response that passed the state and
// iss checks but carries neither a code nor an error.
var ErrNoCode = errors.New("the authorization response carries neither a code nor an error")

// IssuerMismatchError reports an authorization response whose iss does not
// identify the authorization server the request was sent to (RFC 9207
// §2.4, ISS-1): a possible mix-up attack. Any error in such a response is
// not shown, since the response cannot be trusted.
type IssuerMismatchError struct {
	Want    string // the issuer recorded with the request
	Got     string // the iss received
	Missing bool   // iss was required but absent
}

func (e *IssuerMismatchError) Error() string {
	if e.Missing {
		return fmt.Sprintf("the authorization response lacks the iss parameter, which authorization server %q advertises it sends (RFC 9207); the response was discarded", e.Want)
	}
	return fmt.Sprintf("the authorization response came with iss %q, but the request went to authorization server %q (RFC 9207 mix-up check); the response was discarded", e.Got, e.Want)
}

// ServerError is an error response from the authorization endpoint
// (RFC 6749 §4.1.2.1), such as access_denied, after the response passed
// the state and iss checks.
type ServerError struct {
	Code        string
	Description string
	URI         string
}

func (e *ServerError) Error() string {
	msg := "the authorization server refused the authorization: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Code == "access_denied" {
		msg += " (the request was declined)"
	}
	return msg
}

// Verify checks a response against its request and returns the code.
// The order matters: state first (STATE-1), then iss (ISS-1, RFC 9207 §2.4;
// plain string comparison), and only then may an error response be acted
// on or shown.
func (r Request) Verify(resp Response) (code string, err error) {
	if resp.State == "" || subtle.ConstantTimeCompare([]byte(resp.State), []byte(r.State)) != 1 {
		return "", ErrStateMismatch
	}
	switch {
	case resp.HasIss && resp.Iss != r.Issuer:
		return "", &IssuerMismatchError{Want: r.Issuer, Got: redact.Text(resp.Iss)}
	case !resp.HasIss && r.IssParameterSupported:
		return "", &IssuerMismatchError{Want: r.Issuer, Missing: true}
	}
	if resp.Error != "" {
		// The server's text is shown to the person and logged: without
		// the response's code or the request's verifier, made safe to
		// print, and bounded.
		clean := func(s string) string { return redact.Text(redact.Secrets(s, resp.Code, r.Verifier)) }
		return "", &ServerError{Code: clean(resp.Error), Description: clean(resp.ErrorDescription), URI: clean(resp.ErrorURI)}
	}
	if resp.Code == "" {
		return "", ErrNoCode
	}
	return resp.Code, nil
}
