package registration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mcpauth/mcpauth/internal/redact"
	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// maxResponseBytes bounds a registration response.
const maxResponseBytes = 1 << 20

// DefaultTimeout bounds a registration request, response included,
// whatever the http.Client's own timeout.
const DefaultTimeout = 30 * time.Second

// Error is a registration refused by the authorization server
// (RFC 7591 §3.2.2), or a response that could not be used.
type Error struct {
	Endpoint    string
	StatusCode  int
	Code        string // such as invalid_redirect_uri or invalid_client_metadata
	Description string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("client registration at %s was refused", e.Endpoint)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	switch e.Code {
	case "invalid_redirect_uri":
		msg += "; the server does not accept this client's loopback redirect URI — configure a pre-registered client for this server instead"
	case "invalid_client_metadata":
		msg += "; the server rejected the client metadata — configure a pre-registered client or adjust the client metadata"
	}
	return msg
}

// response is the RFC 7591 §3.2.1 client information response.
type response struct {
	Metadata
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt int64  `json:"client_secret_expires_at,omitempty"`
}

// Register performs OAuth 2.0 Dynamic Client Registration (RFC 7591 §3) at
// endpoint for the authorization server issuer. md is sent as it is: apply
// [Metadata.Defaults] first.
//
// The returned client records what the server registered, which may differ
// from what was asked for; where the server omits a field, the requested
// value is assumed (RFC 7591 §3.2.1).
//
// hc nil means http.DefaultClient. Its redirect policy is replaced:
// redirects are followed only within the endpoint's origin
// (urlcheck.CheckRedirect). The request, response included, is bounded by
// DefaultTimeout or ctx's deadline, whichever comes first, and the
// response by 1 MiB.
func Register(ctx context.Context, hc *http.Client, issuer, endpoint string, md Metadata) (*Client, error) {
	if _, err := urlcheck.HTTPSOrLoopback("registration_endpoint", endpoint); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	md.ClientID = ""
	body, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding client metadata: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client registration: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := urlcheck.Client(hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("client registration at %s: %w", endpoint, urlcheck.CleanError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("client registration at %s: reading response: %w", endpoint, err)
	}
	if len(raw) > maxResponseBytes {
		return nil, &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Description: "response larger than 1 MiB"}
	}
	return parseResponse(endpoint, issuer, resp.StatusCode, raw, md)
}

// parseResponse interprets the registration endpoint's answer with HTTP
// status and body to a request for md: an RFC 7591 §3.2.1 client
// information response, or a §3.2.2 error. It makes no request.
func parseResponse(endpoint, issuer string, status int, raw []byte, md Metadata) (*Client, error) {
	if status != http.StatusCreated && status != http.StatusOK {
		e := &Error{Endpoint: endpoint, StatusCode: status}
		var body struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(raw, &body) == nil {
			e.Code, e.Description = redact.Text(body.Error), redact.Text(body.ErrorDescription)
		}
		return nil, e
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &Error{Endpoint: endpoint, StatusCode: status, Description: "the response is not a JSON client information object"}
	}
	if r.ClientID == "" {
		return nil, &Error{Endpoint: endpoint, StatusCode: status, Description: "the response lacks the required client_id"}
	}
	c := &Client{
		Kind:         Dynamic,
		Issuer:       issuer,
		ID:           r.ClientID,
		Secret:       r.ClientSecret,
		AuthMethod:   firstNonEmpty(r.TokenEndpointAuthMethod, md.TokenEndpointAuthMethod),
		GrantTypes:   r.GrantTypes,
		Scope:        r.Scope,
		RedirectURIs: r.RedirectURIs,
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = md.GrantTypes
	}
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = md.RedirectURIs
	}
	if c.Scope == "" {
		c.Scope = md.Scope
	}
	if r.ClientIDIssuedAt > 0 {
		c.IssuedAt = time.Unix(r.ClientIDIssuedAt, 0)
	}
	if r.ClientSecretExpiresAt > 0 {
		c.SecretExpiresAt = time.Unix(r.ClientSecretExpiresAt, 0)
	}
	if c.Secret == "" && c.AuthMethod != AuthNone && c.AuthMethod != AuthPrivateKeyJWT {
		// A server that issued no secret made a public client.
		c.AuthMethod = AuthNone
	}
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
