package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mcpauth/mcpauth/scope"
)

// FuzzParseTokenResponse: a token endpoint answer (RFC 6749 §5.1, §5.2)
// yields a token only when it is a 200 with an access_token and a Bearer
// or DPoP token_type; the token records the issuer, a normalized scope (the
// requested one when the answer names none) and an expiry that is unknown
// or within ten years; a refusal is a *Error safe to print that never
// shows a token of the answer, however it was mangled; and however a
// token is printed, it is not shown.
func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []struct {
		status    int
		body, req string
	}{
		{200, `{"access_token":"TOK-access-123456","token_type":"Bearer","expires_in":3600,"refresh_token":"TOK-refresh-123456","scope":"a b"}`, "a"},
		{200, `{"access_token":"TOK-access-123456","token_type":"bearer","expires_in":"3600"}`, "x y x"},
		{200, `{"access_token":"TOK-access-123456","token_type":"DPoP","expires_in":-1}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"TOK-access-123456"}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"mac","refresh_token":"TOK-refresh-123456"}`, ""},
		{200, `{"access_token":"TOK-access-123456"}`, ""},
		{200, `{"token_type":"Bearer"}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"Bearer","expires_in":1e300}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"Bearer","expires_in":1e-12}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"Bearer","expires_in":"NaN"}`, ""},
		{200, `{"access_token":"TOK-access-123456","token_type":"Bearer","scope":"  \t "}`, "z"},
		{200, `<html>`, ""},
		{400, `{"error":"invalid_grant","error_description":"code TOK-code-123456 expired \u001b[2J"}`, ""},
		{401, `{"error":"invalid_client"}`, ""},
		{500, `oops`, ""},
	} {
		f.Add(s.status, []byte(s.body), s.req)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ep := &Endpoint{URL: "https://auth.example.com/token", Issuer: "https://auth.example.com", Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, status int, raw []byte, requested string) {
		if status != 200 {
			status = 400 + (status&0x7fffffff)%200
		}
		var tok *Token
		var err error
		if status == 200 {
			tok, err = ep.parseToken(raw, status, strings.Split(requested, ","))
		} else {
			err = parseError(ep.URL, status, raw)
		}
		// The tokens the answer carries, to be kept out of any message.
		var body struct {
			AccessToken  any `json:"access_token"`
			RefreshToken any `json:"refresh_token"`
		}
		_ = json.Unmarshal(raw, &body)
		secrets := []string{}
		for _, v := range []any{body.AccessToken, body.RefreshToken} {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "TOK-") && len(s) >= 12 {
				secrets = append(secrets, s)
			}
		}
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Endpoint != ep.URL || te.StatusCode != status || tok != nil {
				t.Fatalf("error %#v", err)
			}
			msg := err.Error()
			if strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("unsafe message %q", msg)
			}
			if status == 200 {
				for _, s := range secrets {
					if strings.Contains(msg, s) {
						t.Fatalf("the message shows a token of the answer: %s", msg)
					}
				}
			}
			return
		}
		if tok.AccessToken == "" || (!strings.EqualFold(tok.TokenType, "Bearer") && !strings.EqualFold(tok.TokenType, "DPoP")) {
			t.Fatalf("token %#v", tok.Token)
		}
		if tok.Issuer != ep.Issuer || !tok.IssuedAt.Equal(now) {
			t.Fatalf("issuer %q issued %v", tok.Issuer, tok.IssuedAt)
		}
		if !tok.Expiry.IsZero() && (!tok.Expiry.After(now) || tok.Expiry.After(now.Add(maxExpiresIn))) {
			t.Fatalf("expiry %v", tok.Expiry)
		}
		seen := map[string]bool{}
		for _, s := range tok.Scope {
			if s == "" || strings.ContainsFunc(s, unicode.IsSpace) || seen[s] {
				t.Fatalf("scope %q", tok.Scope)
			}
			seen[s] = true
		}
		var r response
		_ = json.Unmarshal(raw, &r)
		if len(scope.Parse(r.Scope)) == 0 && !equal(tok.Scope, scope.Normalize(strings.Split(requested, ","))) {
			t.Fatalf("scope %q, requested %q", tok.Scope, requested)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, tok)
			for _, s := range secrets {
				if strings.Contains(out, s) && !strings.Contains(tok.TokenType+tok.Issuer+strings.Join(tok.Scope, " "), s) {
					t.Fatalf("%s shows a token: %s", verb, out)
				}
			}
		}
	})
}

// FuzzExpiresIn: a usable expires_in is a positive duration of at most
// ten years; anything else is unknown.
func FuzzExpiresIn(f *testing.F) {
	for _, s := range []string{`3600`, `"3600"`, `-1`, `0`, `1e-12`, `1e300`, `"NaN"`, `"Inf"`, `"1e5xyz"`, `null`, `true`, `[1]`, `3.5`, `315360000`, `315360001`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, ok := expiresIn(raw)
		if ok != (d != 0) || d < 0 || d > maxExpiresIn {
			t.Fatalf("expiresIn(%q) = %v, %v", raw, d, ok)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
