package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/auth"
)

// signingAlgs are the JWS algorithms accepted for access tokens.
var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256}

// tokenVerifier is an auth.TokenVerifier for JWT access tokens (RFC 9068):
// signature against the AS's JWKS, iss equal to the AS issuer, exp present
// and not passed, aud containing the resource byte for byte.
type tokenVerifier struct {
	keys     *keySource
	issuer   string
	resource string
}

type accessClaims struct {
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
}

func (v *tokenVerifier) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	tok, err := jwt.ParseSigned(token, signingAlgs)
	if err != nil {
		return nil, invalid("not a signed JWT")
	}
	key, err := v.keys.key(ctx, tok.Headers[0].KeyID)
	if errors.Is(err, errUnknownKey) {
		return nil, invalid("signed with an unknown key")
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the authorization server's keys: %w", err) // 500
	}
	var std jwt.Claims
	var extra accessClaims
	if err := tok.Claims(key.Key, &std, &extra); err != nil {
		return nil, invalid("bad signature")
	}
	if std.Expiry == nil {
		return nil, invalid("no exp claim")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: jwt.Audience{v.resource}, Time: time.Now()}, 0)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, invalid("expired")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, invalid("audience is not this resource")
	case err != nil:
		return nil, invalid(err.Error())
	}
	return &auth.TokenInfo{
		Scopes:     strings.Fields(extra.Scope),
		Expiration: std.Expiry.Time(),
		UserID:     std.Subject,
		Extra:      map[string]any{"client_id": extra.ClientID, "aud": []string(std.Audience)},
	}, nil
}

func invalid(why string) error { return fmt.Errorf("%w: %s", auth.ErrInvalidToken, why) }
