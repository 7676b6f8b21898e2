// Package registration obtains an OAuth client identity at an authorization
// server (REG-1): a pre-registered client, a Client ID Metadata Document
// (CIMD), or OAuth 2.0 Dynamic Client Registration (RFC 7591).
//
// metadata.go holds the client metadata shared by CIMD documents and DCR
// requests; dynamic.go the RFC 7591 exchange; cimd.go the metadata
// document; client.go the resulting client.
package registration
