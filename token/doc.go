// Package token makes token endpoint requests (RFC 6749 §3.2): the
// authorization code exchange (§4.1.3) and refresh (§6), always with the
// resource indicator (RFC 8707 §2.2, RES-1), and authenticates the client
// (§2.3) with the method its registration holds. It also revokes tokens
// (RFC 7009).
//
// token.go holds the token as stored, request.go the token request, its
// errors and the form POST both kinds of request share, revoke.go
// revocation, auth.go client authentication.
package token
