package token

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mcpauth/mcpauth/internal/urlcheck"
)

// Revoke asks the authorization server to revoke a token (RFC 7009 §2.1)
// at its revocation_endpoint. hint is "refresh_token" or "access_token".
// Revoking a refresh token also revokes the grant's access tokens at most
// servers. A 200 answer means revoked, or already invalid (§2.2).
func Revoke(ctx context.Context, hc *http.Client, endpoint string, auth ClientAuth, tok, hint string) error {
	if _, err := urlcheck.HTTPSOrLoopback("revocation_endpoint", endpoint); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	form := url.Values{"token": {tok}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, raw, secrets, err := postForm(ctx, hc, "revocation request", endpoint, auth, form)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return parseError(endpoint, resp.StatusCode, raw, secrets...)
	}
	return nil
}
