// Package mcpserver is a protected MCP server for the mcpauth demo and
// integration tests: a go-sdk streamable HTTP server behind go-sdk's
// auth.RequireBearerToken, publishing RFC 9728 protected resource metadata.
//
// Access tokens are the JWTs of the demo authorization server (or any AS
// whose metadata names a jwks_uri), verified with go-jose against the AS's
// JWKS: signature, iss, exp, and aud containing this server's resource URL
// (RFC 9068 §4, RFC 8707).
//
// The server speaks Streamable HTTP at URL() and the older HTTP+SSE
// transport at SSEURL() (URL() + "/sse"), both behind the same bearer check:
// the resource identifier URL() covers both paths.
//
// Every request needs mcp:read. A tools/call of write-note also needs
// mcp:write; without it the answer is 403 with an RFC 6750 §3.1
// insufficient_scope challenge naming the scopes the call needs (the MCP
// step-up flow). offline_access appears in no challenge and not in the
// metadata (SEP-2207: a resource never requires refresh tokens).
//
// Tools: whoami (subject, client and scopes of the token), echo (sends a
// notifications/progress first when the call carries a progress token, so a
// proxy can be seen relaying a server-to-client notification) and
// write-note.
package mcpserver
