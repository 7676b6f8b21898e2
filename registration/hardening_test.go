package registration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/internal/oauthtest"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
	"github.com/mcpauth/mcpauth/registration"
)

// TestRegister_SSRF1_RedirectsStayOnOrigin: registration follows a
// redirect within the endpoint's origin only, whatever the caller's
// CheckRedirect.
func TestRegister_SSRF1_RedirectsStayOnOrigin(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{})
	other := oauthtest.NewServer(t)
	md := registration.Metadata{RedirectURIs: []string{loopbackRedirect}}.Defaults(true)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	as.Server.Handle("/moved", oauthtest.RedirectTo(as.RegisterPath, http.StatusTemporaryRedirect))
	if _, err := registration.Register(context.Background(), hc, as.Issuer, as.URL+"/moved", md); err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	as.Server.Handle("/moved", oauthtest.RedirectTo(other.URL+"/register", http.StatusTemporaryRedirect))
	_, err := registration.Register(context.Background(), hc, as.Issuer, as.URL+"/moved", md)
	var re *urlcheck.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if n := other.Total(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
}

// TestRegister_Bounded: the request carries a deadline although neither
// the context nor the client has one; a response that never ends is cut
// by the context's deadline; a gigabyte one is read to 1 MiB only.
func TestRegister_Bounded(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{})
	d := &oauthtest.Deadlines{}
	md := registration.Metadata{RedirectURIs: []string{loopbackRedirect}}.Defaults(true)
	if _, err := registration.Register(context.Background(), &http.Client{Transport: d}, as.Issuer, as.URL+as.RegisterPath, md); err != nil {
		t.Fatal(err)
	}
	if n, all := d.Bounded(); n != 1 || !all {
		t.Errorf("%d requests, with a deadline: %v", n, all)
	}
	as.Server.Handle(as.RegisterPath, oauthtest.Trickle(`{"client_id":`))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := registration.Register(ctx, nil, as.Issuer, as.URL+as.RegisterPath, md); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("trickle: %v", err)
	}
	g := &oauthtest.Giant{Status: http.StatusCreated, Prefix: `{"client_id":"`, Size: oauthtest.GiB}
	as.Server.Handle(as.RegisterPath, g.ServeHTTP)
	_, err := registration.Register(context.Background(), nil, as.Issuer, as.URL+as.RegisterPath, md)
	var re *registration.Error
	if !errors.As(err, &re) || !strings.Contains(re.Description, "larger than 1 MiB") {
		t.Errorf("giant: %v", err)
	}
}

// TestRegister_ErrorTextSafe: a refusal's description is shown without
// control or bidirectional characters, and bounded.
func TestRegister_ErrorTextSafe(t *testing.T) {
	as := oauthtest.NewAS(t, oauthtest.ASConfig{RegisterError: &oauthtest.Error{Code: "invalid_client_metadata\x1b[31m",
		Description: "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \u202eexe.txt " + strings.Repeat("y", 10000)}})
	_, err := registration.Register(context.Background(), nil, as.Issuer, as.URL+as.RegisterPath, registration.Metadata{}.Defaults(true))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x07\u202e") || len(msg) > 2048 || !strings.Contains(msg, "click") {
		t.Errorf("message %q", msg)
	}
}

// TestClient_SecretNeverPrinted: a client with a secret, however printed
// or logged, does not show it.
func TestClient_SecretNeverPrinted(t *testing.T) {
	c := registration.Client{Kind: registration.Dynamic, Issuer: "https://as.example", ID: "cid", Secret: "CS-77aa"}
	for _, s := range []string{c.String(), fmtAll(&c), fmtAll(c)} {
		if strings.Contains(s, "CS-77aa") {
			t.Errorf("secret shown: %s", s)
		}
	}
}

func fmtAll(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		b.WriteString(fmt.Sprintf(verb, v))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("c", "client", v)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("c", "client", v)
	return b.String() + buf.String()
}
