package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpauth/mcpauth"
	"github.com/mcpauth/mcpauth/authorize"
	"github.com/mcpauth/mcpauth/ext/internal/mockas"
	"github.com/mcpauth/mcpauth/ext/jwtauth"
	"github.com/mcpauth/mcpauth/registration"
)

// TestAuthorizationCodeAndRefresh: private_key_jwt on the code exchange
// and on the refresh, each with a fresh assertion.
func TestAuthorizationCodeAndRefresh(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err := jwtauth.NewKey(priv, "", "key-2025")
	if err != nil {
		t.Fatal(err)
	}
	s := mockas.New(t)
	var (
		mu     sync.Mutex
		grants []string
		jtis   = map[string]bool{}
		fails  []string
	)
	s.Token = func(w http.ResponseWriter, r *http.Request) {
		f := mockas.Form(r)
		mu.Lock()
		defer mu.Unlock()
		grants = append(grants, f.Get("grant_type"))
		obj, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
		var c jwt.Claims
		if err == nil {
			if kid := obj.Headers[0].KeyID; kid != "key-2025" {
				fails = append(fails, "kid "+kid)
			}
			err = obj.Claims(&priv.PublicKey, &c)
		}
		if err == nil {
			err = c.ValidateWithLeeway(jwt.Expected{Issuer: "web-app", Subject: "web-app", AnyAudience: jwt.Audience{s.Issuer()}, Time: time.Now()}, 0)
		}
		if err != nil || jtis[c.ID] || f.Has("client_id") {
			fails = append(fails, "bad assertion on "+f.Get("grant_type"))
			mockas.Error(w, 401, "invalid_client", "")
			return
		}
		jtis[c.ID] = true
		s.Issue(w, "Bearer", map[string]any{"refresh_token": "rt-1", "expires_in": 60})
	}
	var offset atomic.Int64
	tr, err := mcpauth.NewTransport(s.MCPURL(), mcpauth.Config{
		Step:       &authorize.Loopback{Open: authorize.HeadlessOpener(nil)},
		ClientAuth: (&jwtauth.Method{Key: key}).ClientAuth,
		PreRegistered: map[string]mcpauth.PreRegisteredClient{s.Issuer(): {
			ClientID: "web-app", AuthMethod: registration.AuthPrivateKeyJWT,
			GrantTypes: []string{registration.GrantAuthorizationCode, registration.GrantRefreshToken},
		}},
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.Client().Post(s.MCPURL(), "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	offset.Store(int64(2 * time.Minute)) // the access token has expired
	if _, err := tr.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(grants, ","); got != "authorization_code,refresh_token" {
		t.Errorf("grants %s", got)
	}
	for _, f := range fails {
		t.Error(f)
	}
}
