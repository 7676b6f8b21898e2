// Package mcpauth authorizes an MCP client against a protected MCP server,
// following the MCP authorization specification (revision 2026-07-28) and
// SEP-2207's guidance on refresh tokens.
//
// A [Transport] is an http.RoundTripper that any Go MCP client plugs in
// (the official go-sdk's StreamableClientTransport, mcp-go, plain
// net/http). On a 401 it runs the whole flow, each step a plain function
// of the last one's result:
//
//	discovery     WWW-Authenticate → protected resource metadata (RFC 9728)
//	              → authorization server metadata (RFC 8414, OIDC Discovery)
//	registration  pre-registered client → client ID metadata document
//	              → dynamic client registration (RFC 7591)
//	scopes        scope.Select: challenge → resource scopes_supported
//	              → configured → omit; offline_access per SEP-2207
//	authorization authorization code + PKCE S256, state, resource (RFC 8707),
//	              iss check (RFC 9207), through a pluggable person's Step
//	tokens        code exchange and refresh, resource on both
//	store         credentials kept per resource and issuer
//
// then retries the request. It steps up on 403 insufficient_scope with the
// union of scopes, a bounded number of times, and refreshes tokens ahead of
// expiry with one refresh however many goroutines (or processes sharing a
// file store) need it.
//
// # Go MCP clients
//
// The Transport serves every Go MCP stack through its http.Client:
//
//	go-sdk    &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: tr.Client()}
//	          &mcp.SSEClientTransport{Endpoint: url, HTTPClient: tr.Client()}
//	mcp-go    transport.NewStreamableHTTP(url, transport.WithHTTPBasicClient(tr.Client()))
//	          transport.NewSSE(url, transport.WithHTTPClient(tr.Client()))
//
// For go-sdk's own hook, [NewOAuthHandler] (or [Transport.OAuthHandler])
// returns an auth.OAuthHandler, in place of go-sdk's
// auth.AuthorizationCodeHandler:
//
//	&mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: h}
//
// The examples directory has complete programs for both stacks.
//
// # Errors
//
// Failures a caller may branch on are typed; use errors.As:
// [ResourceMismatchError] (PRM-4), [MetadataIssuerMismatchError] (ASM-3),
// [IssMismatchError] (ISS-1), [PKCEUnsupportedError] (PKCE-1),
// [RegistrationError] (REG-4), [InsufficientScopeError] (STEP-2),
// [NoRegistrationMethodError] (REG-2), [LoginRequiredError], [TokenError]
// and [AuthorizationError]. Messages name the URL or field at fault and what
// to do; none holds a token, secret, code or verifier.
//
// Rule IDs such as PRM-4 refer to the project's requirements list, each
// traceable to the specification and to the tests named after it.
package mcpauth
