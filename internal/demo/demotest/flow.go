package demotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// Metadata is the part of RFC 8414 authorization server metadata the
// helpers use.
type Metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ScopesSupported       []string `json:"scopes_supported"`
}

// Discover reads issuer + "/.well-known/oauth-authorization-server".
func Discover(ctx context.Context, issuer string) (*Metadata, error) {
	var m Metadata
	if err := getJSON(ctx, issuer+"/.well-known/oauth-authorization-server", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Register sends RFC 7591 client metadata and decodes the 201 answer into
// out. A non-201 answer is an *HTTPError.
func Register(ctx context.Context, endpoint string, metadata, out any) error {
	body, err := json.Marshal(metadata)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return &HTTPError{Status: resp.StatusCode, Body: string(raw)}
	}
	return json.Unmarshal(raw, out)
}

// Flow is one authorization code flow with PKCE S256.
type Flow struct {
	Config   *oauth2.Config
	Resource string // sent at the authorization and token endpoints when set
	Prompt   string // e.g. "consent"
	Browser  Browser
	// Issuer, when set, must come back as the iss parameter (RFC 9207).
	Issuer string
}

// Run authorizes and exchanges the code.
func (f *Flow) Run(ctx context.Context) (*oauth2.Token, error) {
	code, verifier, err := f.Code(ctx)
	if err != nil {
		return nil, err
	}
	return f.Exchange(ctx, code, verifier)
}

// Code authorizes and returns the code and the PKCE verifier.
func (f *Flow) Code(ctx context.Context) (code, verifier string, err error) {
	verifier = oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if f.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", f.Resource))
	}
	if f.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", f.Prompt))
	}
	loc, err := f.Browser.Authorize(ctx, f.Config.AuthCodeURL(state, opts...))
	if err != nil {
		return "", "", err
	}
	q := loc.Query()
	if f.Issuer != "" && q.Get("iss") != f.Issuer {
		return "", "", fmt.Errorf("demotest: iss %q, want %q", q.Get("iss"), f.Issuer)
	}
	if q.Get("state") != state {
		return "", "", fmt.Errorf("demotest: state mismatch")
	}
	if e := q.Get("error"); e != "" {
		return "", "", &AuthError{Code: e, Description: q.Get("error_description"), Redirect: loc}
	}
	return q.Get("code"), verifier, nil
}

// Exchange trades the code for tokens.
func (f *Flow) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if f.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", f.Resource))
	}
	return f.Config.Exchange(ctx, code, opts...)
}

// AuthError is an error authorization response (RFC 6749 §4.1.2.1).
type AuthError struct {
	Code, Description string
	Redirect          *url.URL
}

func (e *AuthError) Error() string {
	return "demotest: authorization error " + e.Code + ": " + e.Description
}

func getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{Status: resp.StatusCode}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
