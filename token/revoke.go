package token

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return fmt.Errorf("revocation request: %w", err)
	}
	if auth != nil {
		if err := auth.Apply(req, form, endpoint); err != nil {
			return fmt.Errorf("client authentication: %w", err)
		}
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	secrets := secretsOf(req, form)
	resp, err := urlcheck.Client(hc).Do(req)
	if err != nil {
		return fmt.Errorf("revocation request to %s: %w", endpoint, scrub(err, secrets))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode != http.StatusOK {
		return parseError(endpoint, resp.StatusCode, raw, secrets...)
	}
	return nil
}
