// Package authorize runs the front-channel part of the OAuth 2.1
// authorization code grant: the authorization request with PKCE
// (RFC 7636), state and resource (RFC 8707); the person's step at the
// authorization server; and the checks on the redirect that comes back
// (state, and the RFC 9207 iss parameter).
//
// request.go builds the request, response.go checks the response, step.go
// defines the pluggable person's step, and loopback.go implements it with an
// RFC 8252 loopback redirect listener.
package authorize
