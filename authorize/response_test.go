package authorize_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/authorize"
)

const (
	issuer     = "https://as.example/tenant"
	secretDesc = "PLEASE-VISIT-evil.example-TO-FIX"
)

// TestVerify_STATE1_ISS1 covers the order and rules of the redirect
// checks: state first, then iss (RFC 9207, plain string equality), then
// only an error or a code.
func TestVerify_STATE1_ISS1(t *testing.T) {
	req := authorize.New()
	req.Issuer = issuer
	good := req.State

	type want struct {
		code     string
		state    bool // ErrStateMismatch
		iss      bool // *IssuerMismatchError
		missing  bool // IssuerMismatchError.Missing
		srvError string
	}
	tests := []struct {
		name       string
		advertised bool
		query      url.Values
		want       want
	}{
		{"state and iss good", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {issuer}}, want{code: "c1"}},
		{"STATE-1 state missing", true, url.Values{"code": {"c1"}, "iss": {issuer}}, want{state: true}},
		{"STATE-1 state empty", true, url.Values{"code": {"c1"}, "state": {""}, "iss": {issuer}}, want{state: true}},
		{"STATE-1 state wrong", true, url.Values{"code": {"c1"}, "state": {good + "x"}, "iss": {issuer}}, want{state: true}},
		{"STATE-1 state prefix", true, url.Values{"code": {"c1"}, "state": {good[:10]}, "iss": {issuer}}, want{state: true}},
		{"STATE-1 wrong state beats wrong iss", true, url.Values{"code": {"c1"}, "state": {"x"}, "iss": {"https://evil"}}, want{state: true}},
		{"ISS-1 advertised, iss missing", true, url.Values{"code": {"c1"}, "state": {good}}, want{iss: true, missing: true}},
		{"ISS-1 advertised, iss empty", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {""}}, want{iss: true}},
		{"ISS-1 trailing slash variant", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {issuer + "/"}}, want{iss: true}},
		{"ISS-1 case variant", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {"https://AS.example/tenant"}}, want{iss: true}},
		{"ISS-1 default port variant", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {"https://as.example:443/tenant"}}, want{iss: true}},
		{"ISS-1 percent-encoding variant", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {"https://as.example/%74enant"}}, want{iss: true}},
		{"ISS-1 other issuer", true, url.Values{"code": {"c1"}, "state": {good}, "iss": {"https://evil.example"}}, want{iss: true}},
		{"ISS-1 not advertised, absent: accepted", false, url.Values{"code": {"c1"}, "state": {good}}, want{code: "c1"}},
		{"ISS-1 not advertised, present and equal: accepted", false, url.Values{"code": {"c1"}, "state": {good}, "iss": {issuer}}, want{code: "c1"}},
		{"ISS-1 not advertised, present and different", false, url.Values{"code": {"c1"}, "state": {good}, "iss": {issuer + "/"}}, want{iss: true}},
		{"ISS-1 mismatch on an error response hides the error", true,
			url.Values{"error": {"access_denied"}, "error_description": {secretDesc}, "state": {good}, "iss": {"https://evil.example"}}, want{iss: true}},
		{"ISS-1 missing on an error response hides the error", true,
			url.Values{"error": {"access_denied"}, "error_description": {secretDesc}, "state": {good}}, want{iss: true, missing: true}},
		{"error response after the checks", true,
			url.Values{"error": {"access_denied"}, "error_description": {"user said no"}, "state": {good}, "iss": {issuer}}, want{srvError: "access_denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			r.IssParameterSupported = tt.advertised
			code, err := r.Verify(authorize.ParseResponse(tt.query))
			var im *authorize.IssuerMismatchError
			var se *authorize.ServerError
			switch {
			case tt.want.code != "":
				if err != nil || code != tt.want.code {
					t.Errorf("Verify = %q, %v; want %q", code, err, tt.want.code)
				}
			case tt.want.state:
				if !errors.Is(err, authorize.ErrStateMismatch) {
					t.Errorf("err = %v, want ErrStateMismatch", err)
				}
			case tt.want.iss:
				if !errors.As(err, &im) || im.Missing != tt.want.missing || im.Want != issuer {
					t.Errorf("err = %#v, want *IssuerMismatchError (missing %v)", err, tt.want.missing)
				}
			case tt.want.srvError != "":
				if !errors.As(err, &se) || se.Code != tt.want.srvError || se.Description != "user said no" {
					t.Errorf("err = %v, want ServerError %s", err, tt.want.srvError)
				}
			}
			if tt.want.code == "" && code != "" {
				t.Errorf("a code was returned with an error: %q", code)
			}
			if err != nil && (strings.Contains(err.Error(), secretDesc) || strings.Contains(err.Error(), "c1")) {
				t.Errorf("error shows the untrusted response: %s", err)
			}
		})
	}
}

// TestVerify_NeitherCodeNorError: a response with good state and iss but
// nothing else is an error.
func TestVerify_NeitherCodeNorError(t *testing.T) {
	r := authorize.New()
	r.Issuer = issuer
	if _, err := r.Verify(authorize.Response{State: r.State, Iss: issuer, HasIss: true}); err == nil {
		t.Error("empty response accepted")
	}
}

// TestParseResponse_ISS1_HasIss: an iss present but empty is told apart
// from an absent one.
func TestParseResponse_ISS1_HasIss(t *testing.T) {
	if r := authorize.ParseResponse(url.Values{"iss": {""}}); !r.HasIss {
		t.Error("empty iss not seen")
	}
	if r := authorize.ParseResponse(url.Values{}); r.HasIss {
		t.Error("absent iss seen")
	}
}
