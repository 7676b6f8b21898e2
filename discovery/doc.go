// Package discovery finds an MCP server's authorization server.
//
// It covers three documents, one file each:
//   - challenge.go: the WWW-Authenticate challenge of a 401 or 403 response
//     (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1);
//   - resource.go: OAuth 2.0 Protected Resource Metadata (RFC 9728);
//   - server.go: OAuth 2.0 Authorization Server Metadata (RFC 8414) and
//     OpenID Connect Discovery 1.0.
//
// Every document is fetched through a [Fetcher], which bounds what it reads,
// keeps redirects on the same origin, and reports each probe it made so a
// diagnostic tool can show them.
package discovery
