package token

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is an access token with what a client must remember about it.
type Token struct {
	// Token holds the access token, token type, refresh token and expiry.
	oauth2.Token
	// Scope is the scope granted: the response's scope, or the requested
	// scope when the response omits it (RFC 6749 §5.1).
	Scope []string `json:"scope,omitempty"`
	// Issuer of the authorization server that minted the token (AS-2,
	// TOK-2).
	Issuer string `json:"issuer"`
	// IssuedAt is when the token response arrived; with Expiry it gives
	// the token's lifetime.
	IssuedAt time.Time `json:"issued_at"`
}

// Lifetime returns the token's lifetime as issued, or 0 when unknown.
func (t *Token) Lifetime() time.Duration {
	if t.Expiry.IsZero() || t.IssuedAt.IsZero() {
		return 0
	}
	return t.Expiry.Sub(t.IssuedAt)
}

// RefreshMargin returns how long before expiry a token of the given
// lifetime is refreshed: a tenth of its lifetime, between 1 second and
// 60 seconds. A fixed margin fails short-lived tokens: x/oauth2's 10 s
// refreshes a 10 s token before every request, mcp-remote's 60 s a 60 s
// one.
func RefreshMargin(lifetime time.Duration) time.Duration {
	m := lifetime / 10
	switch {
	case m < time.Second:
		return min(time.Second, lifetime/2)
	case m > time.Minute:
		return time.Minute
	}
	return m
}

// Fresh reports whether the access token can be sent at now without a
// refresh first: it exists and is not within its refresh margin of expiry.
// A token without expiry is fresh until the server rejects it.
func (t *Token) Fresh(now time.Time) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	return now.Add(RefreshMargin(t.Lifetime())).Before(t.Expiry)
}

// CanRefresh reports whether the token carries a refresh token.
func (t *Token) CanRefresh() bool { return t != nil && t.RefreshToken != "" }

// String describes the token without revealing it: type, issuer, scope,
// expiry and whether a refresh token is held, never the tokens themselves.
func (t Token) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token{type=%s issuer=%s scope=%q", t.TokenType, t.Issuer, strings.Join(t.Scope, " "))
	if !t.Expiry.IsZero() {
		fmt.Fprintf(&b, " expiry=%s", t.Expiry.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, " access_token=%s refresh_token=%s}", redacted(t.AccessToken), redacted(t.RefreshToken))
	return b.String()
}

// Format implements fmt.Formatter: every verb, %#v and %x included,
// prints [Token.String], so a token that reaches a log line, an error or a
// panic message is not revealed.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue implements slog.LogValuer, with the same redaction as
// [Token.String].
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("type", t.TokenType),
		slog.String("issuer", t.Issuer),
		slog.String("scope", strings.Join(t.Scope, " ")),
		slog.String("access_token", redacted(t.AccessToken)),
		slog.String("refresh_token", redacted(t.RefreshToken)),
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	return slog.GroupValue(attrs...)
}

func redacted(s string) string {
	if s == "" {
		return "none"
	}
	return "[redacted]"
}
