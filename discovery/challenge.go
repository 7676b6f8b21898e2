package discovery

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcpauth/mcpauth/scope"
)

// A Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1).
type Challenge struct {
	// Scheme is the authentication scheme as sent, such as "Bearer".
	// Schemes compare case-insensitively.
	Scheme string
	// Params holds the auth-params, keyed by lower-cased name, with
	// quoted-string values unquoted. The first occurrence of a name wins.
	Params map[string]string
	// Token68 is the token68 form of credentials, when the challenge uses it
	// instead of auth-params.
	Token68 string
}

// HasScheme reports whether c uses scheme, compared case-insensitively.
func (c Challenge) HasScheme(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// ResourceMetadata returns the resource_metadata parameter (RFC 9728 §5.1).
func (c Challenge) ResourceMetadata() string { return c.Params["resource_metadata"] }

// Scope returns the scope parameter split into values (RFC 6750 §3).
func (c Challenge) Scope() []string { return scope.Parse(c.Params["scope"]) }

// Error returns the error parameter, such as "insufficient_scope"
// (RFC 6750 §3.1).
func (c Challenge) Error() string { return c.Params["error"] }

// ErrorDescription returns the error_description parameter.
func (c Challenge) ErrorDescription() string { return c.Params["error_description"] }

// Challenges is the list of challenges of a response, in header order.
type Challenges []Challenge

// Find returns the first challenge with the given scheme.
func (cs Challenges) Find(scheme string) (Challenge, bool) {
	for _, c := range cs {
		if c.HasScheme(scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}

// Bearer returns the challenge an OAuth client acts on: the Bearer one, or
// else a DPoP one (RFC 9449 §7.1), which carries the same parameters.
func (cs Challenges) Bearer() (Challenge, bool) {
	if c, ok := cs.Find("Bearer"); ok {
		return c, true
	}
	return cs.Find("DPoP")
}

// ParseResponse parses every WWW-Authenticate header of resp.
func ParseResponse(resp *http.Response) (Challenges, error) {
	return ParseChallenges(resp.Header.Values("WWW-Authenticate"))
}

// ParseChallenges parses WWW-Authenticate header values (RFC 9110 §11.6.1).
// One value may hold several comma-separated challenges, and a challenge's
// parameters may be tokens or quoted strings with backslash escapes.
// Parsing is strict about syntax: on malformed input it returns the
// challenges parsed before the fault together with a *ChallengeError.
//
// Headers longer than [MaxChallengeBytes] in all are not parsed: the
// error wraps [ErrChallengeTooLarge].
func ParseChallenges(values []string) (Challenges, error) {
	total := 0
	for _, v := range values {
		total += len(v)
	}
	if total > MaxChallengeBytes {
		head := ""
		if len(values) > 0 {
			head = values[0][:min(len(values[0]), 256)]
		}
		return nil, &ChallengeError{Header: head, Offset: MaxChallengeBytes, Err: ErrChallengeTooLarge,
			Reason: fmt.Sprintf("the header holds %d bytes, more than the %d accepted", total, MaxChallengeBytes)}
	}
	var out Challenges
	for _, v := range values {
		p := challengeParser{s: v}
		cs, err := p.parse()
		out = append(out, cs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// MaxChallengeBytes bounds the WWW-Authenticate header values of one
// response that are parsed. Real challenges take a few hundred bytes; a
// larger header is refused rather than acted on (its scope would become
// the authorization request's).
const MaxChallengeBytes = 16 << 10

// ErrChallengeTooLarge means the WWW-Authenticate header values exceed
// [MaxChallengeBytes].
var ErrChallengeTooLarge = errors.New("WWW-Authenticate header too large")

// ChallengeError reports a malformed WWW-Authenticate header.
type ChallengeError struct {
	Header string // the header value (its start, when too large), which carries no credentials
	Offset int    // byte offset of the fault
	Reason string
	Err    error // ErrChallengeTooLarge, or nil
}

func (e *ChallengeError) Error() string {
	return fmt.Sprintf("malformed WWW-Authenticate header at byte %d: %s", e.Offset, e.Reason)
}

func (e *ChallengeError) Unwrap() error { return e.Err }

type challengeParser struct {
	s   string
	pos int
}

func (p *challengeParser) fail(reason string) error {
	return &ChallengeError{Header: p.s, Offset: p.pos, Reason: reason}
}

func (p *challengeParser) parse() (Challenges, error) {
	var out Challenges
	for {
		p.skipListSeparators()
		if p.done() {
			return out, nil
		}
		scheme := p.token()
		if scheme == "" {
			return out, p.fail("expected an authentication scheme")
		}
		c := Challenge{Scheme: scheme, Params: map[string]string{}}
		if p.skipSpaces() && !p.done() && p.peek() != ',' {
			if err := p.parseParamsOrToken68(&c); err != nil {
				return append(out, c), err
			}
		}
		out = append(out, c)
	}
}

// parseParamsOrToken68 reads what follows a scheme: either a token68 or a
// comma-separated list of auth-params, stopping before the next challenge.
func (p *challengeParser) parseParamsOrToken68(c *Challenge) error {
	if t, ok := p.tryToken68(); ok {
		c.Token68 = t
		return nil
	}
	for {
		start := p.pos
		name := p.token()
		if name == "" {
			return p.fail("expected an auth-param name")
		}
		p.skipSpaces()
		if p.done() || p.peek() != '=' {
			// A token not followed by '=' begins the next challenge.
			p.pos = start
			return nil
		}
		p.pos++ // '='
		p.skipSpaces()
		var value string
		quoted := !p.done() && p.peek() == '"'
		if quoted {
			v, err := p.quoted()
			if err != nil {
				return err
			}
			value = v
		} else {
			value = p.token()
			if value == "" {
				return p.fail("expected a token or quoted string after " + name + "=")
			}
		}
		p.skipSpaces()
		key := strings.ToLower(name)
		if _, dup := c.Params[key]; !dup && (quoted || p.done() || p.peek() == ',') {
			// A token value the fault cuts short (an unquoted URL stops
			// at ':') is not kept: a truncated resource_metadata must
			// never be acted on.
			c.Params[key] = value
		}
		if p.done() {
			return nil
		}
		if p.peek() != ',' {
			return p.fail("expected ',' after auth-param " + name)
		}
		// Skip separators, then decide whether a parameter or a new
		// challenge follows.
		p.skipListSeparators()
		if p.done() {
			return nil
		}
		save := p.pos
		if p.token() == "" {
			return p.fail("expected an auth-param or a challenge")
		}
		p.skipSpaces()
		isParam := !p.done() && p.peek() == '='
		p.pos = save
		if !isParam {
			return nil
		}
	}
}

// tryToken68 reads a token68 (RFC 9110 §11.2) when one stands alone before
// a comma or the end; otherwise it leaves the position unchanged.
func (p *challengeParser) tryToken68() (string, bool) {
	start := p.pos
	for !p.done() && isToken68Char(p.peek()) {
		p.pos++
	}
	if p.pos == start {
		return "", false
	}
	for !p.done() && p.peek() == '=' {
		p.pos++
	}
	end := p.pos
	p.skipSpaces()
	if p.done() || p.peek() == ',' {
		// "name=value" would have stopped at '=' followed by more.
		return p.s[start:end], true
	}
	p.pos = start
	return "", false
}

func (p *challengeParser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.done() {
		ch := p.peek()
		switch ch {
		case '\\':
			p.pos++
			if p.done() {
				return "", p.fail("unterminated escape in quoted string")
			}
			b.WriteByte(p.peek())
			p.pos++
		case '"':
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(ch)
			p.pos++
		}
	}
	return "", p.fail("unterminated quoted string")
}

func (p *challengeParser) token() string {
	start := p.pos
	for !p.done() && isTokenChar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// skipSpaces skips optional whitespace and reports whether it skipped any.
func (p *challengeParser) skipSpaces() bool {
	start := p.pos
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
	return p.pos > start
}

// skipListSeparators skips whitespace and empty list elements (RFC 9110 §5.6.1).
func (p *challengeParser) skipListSeparators() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.pos++
	}
}

func (p *challengeParser) done() bool { return p.pos >= len(p.s) }
func (p *challengeParser) peek() byte { return p.s[p.pos] }

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68Char reports whether c may appear in a token68 before its
// trailing '=' padding (RFC 9110 §11.2).
func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
