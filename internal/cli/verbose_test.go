package cli

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/demo/authserver"
)

// --verbose traces every request and response, with no token, refresh
// token, code, verifier or secret in it.
func TestVerboseTraceRedacts(t *testing.T) {
	d := startDemo(t, authserver.Config{AutoApprove: true, AccessTokenLifetime: 2 * time.Second})
	r := d.run(t, "-v", "login", d.url)
	if r.code != 0 {
		t.Fatal("login failed")
	}
	trace := r.err
	// The trace shows the code exchange, redacted.
	for _, want := range []string{
		"> POST " + d.as.Issuer() + "/register",
		"> POST " + d.as.Issuer() + "/oauth/token",
		"code=[REDACTED]",
		"code_verifier=[REDACTED]",
		`"access_token":"[REDACTED]"`,
		`"refresh_token":"[REDACTED]"`,
		"< 200 OK",
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	secrets := d.secrets(t)
	assertNoSecrets(t, "login trace", trace, secrets)
	if m := regexp.MustCompile(`[?&]code=[^\[]`).FindString(trace); m != "" {
		t.Errorf("an authorization code in the trace: %q", m)
	}

	// Token use and refresh: Authorization headers and refresh_token
	// form fields are redacted too.
	time.Sleep(2100 * time.Millisecond)
	r = d.run(t, "-v", "tools", d.url)
	if r.code != 0 {
		t.Fatal("tools failed")
	}
	for _, want := range []string{"Authorization: Bearer [REDACTED]", "grant_type=refresh_token", "refresh_token=[REDACTED]"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	assertNoSecrets(t, "tools trace", r.out+r.err, append(secrets, d.secrets(t)...))

	// logout: the revocation request's token field.
	r = d.run(t, "-v", "logout", d.url)
	if !strings.Contains(r.err, "token=[REDACTED]") {
		t.Error("the revocation request's token is not redacted")
	}
	assertNoSecrets(t, "logout trace", r.err, d.secrets(t))
}

func TestRedaction(t *testing.T) {
	form := "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=SUBJ&client_assertion=CA&assertion=AS&client_secret=CS&code=C&code_verifier=V&scope=a+b&actor_token=AT"
	got := redactBody("application/x-www-form-urlencoded", []byte(form))
	for _, secret := range []string{"SUBJ", "=CA", "=AS", "=CS", "=C&", "=V", "=AT"} {
		if strings.Contains(got, secret) {
			t.Errorf("form %q still shows %q", got, secret)
		}
	}
	if !strings.Contains(got, "scope=a+b") || !strings.Contains(got, "grant_type=urn") {
		t.Errorf("form over-redacted: %q", got)
	}

	js := `{"access_token": "AT1", "token_type":"Bearer","refresh_token":"RT\"1","id_token":"ID","client_secret":"CS","client_id":"keep","nested":{"access_token":"AT2"},"registration_access_token":"RAT"}`
	got = redactBody("application/json", []byte(js))
	for _, secret := range []string{"AT1", `RT\"1`, "ID\"", "\"CS\"", "AT2", "RAT"} {
		if strings.Contains(got, secret) {
			t.Errorf("JSON %q still shows %q", got, secret)
		}
	}
	if !strings.Contains(got, `"client_id":"keep"`) || !strings.Contains(got, `"token_type":"Bearer"`) {
		t.Errorf("JSON over-redacted: %q", got)
	}
	sse := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"result\":{\"access_token\":\"X1\"}}\n\n"
	if got := redactBody("text/event-stream", []byte(sse)); strings.Contains(got, "X1") {
		t.Errorf("event data: %q", got)
	}

	h := http.Header{}
	h.Set("Authorization", "Bearer TOKEN")
	h.Set("DPoP", "PROOF")
	h.Set("Cookie", "a=b")
	h.Set("Location", "http://127.0.0.1:5/callback?code=CODE&state=S&iss=I")
	var b strings.Builder
	writeHeaders(&b, "", h)
	for _, secret := range []string{"TOKEN", "PROOF", "a=b", "CODE"} {
		if strings.Contains(b.String(), secret) {
			t.Errorf("headers %q still show %q", b.String(), secret)
		}
	}
	if !strings.Contains(b.String(), "Authorization: Bearer [REDACTED]") || !strings.Contains(b.String(), "state=S") {
		t.Errorf("headers: %q", b.String())
	}
	if got := redactURL("http://127.0.0.1/cb#access_token=T&state=s"); strings.Contains(got, "=T") {
		t.Errorf("fragment: %q", got)
	}
	msg := `Get "http://127.0.0.1:4/callback?code=eyJabc.def&iss=x&state=y": context canceled`
	if got := redactText(msg); strings.Contains(got, "eyJabc") || !strings.Contains(got, "state=y") {
		t.Errorf("redactText: %q", got)
	}
}
