// Package authserver is an embedded OAuth 2.1 authorization server and OpenID
// provider for the mcpauth demo and integration tests.
//
// Token issuance, PKCE verification (RFC 7636), client authentication, the
// JWKS, userinfo and revocation (RFC 7009) endpoints come from
// github.com/zitadel/oidc/v3/pkg/op; this package supplies an in-memory
// [op.Storage] and adds what an MCP authorization server needs on top:
//
//   - RFC 8414 metadata next to OpenID Connect Discovery, with
//     authorization_response_iss_parameter_supported, registration_endpoint
//     and client_id_metadata_document_supported;
//   - RFC 9207 iss in every authorization response, success and error;
//   - RFC 8707 resource indicators bound into the JWT access token aud
//     (invalid_target otherwise);
//   - RFC 7591 dynamic client registration, with a registered scope acting as
//     an allow-list (the "registered scope" trap real providers set);
//   - OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document);
//   - OIDC Core §11 offline_access handling (dropped without prompt=consent),
//     refresh token rotation with reuse detection (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2);
//   - RFC 8252 §7.3 loopback redirect URIs with any port, compared by
//     scheme, host and path;
//   - a login and consent page, or headless auto-approval.
//
// The server only listens on loopback and uses an http issuer: it is a
// development and test server, not a production one.
package authserver
