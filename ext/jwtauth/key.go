package jwtauth

import (
	"crypto"

	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

// Key is a client's private signing key with its JWS algorithm. It is the
// same type as dpop.Key. Formatting a Key prints its algorithm and
// thumbprint, never key material.
type Key = keys.Key

// Errors for bad keys, to test with errors.Is.
var (
	ErrNoKey         = keys.ErrNoKey
	ErrPublicKeyOnly = keys.ErrPublicKeyOnly
	ErrWrongKeyType  = keys.ErrWrongKeyType
)

// ParseKey reads a private key from a JWK or from PEM (PKCS #8, SEC 1 EC
// or PKCS #1 RSA). alg is the JWS algorithm the authorization server
// expects (one of its token_endpoint_auth_signing_alg_values_supported);
// empty takes the JWK's alg, else ES256/ES384/ES512 by curve, RS256 for
// RSA, EdDSA for Ed25519.
func ParseKey(data []byte, alg string) (*Key, error) { return keys.Parse(data, alg) }

// NewKey wraps an *ecdsa.PrivateKey, *rsa.PrivateKey or
// ed25519.PrivateKey. alg and keyID are as for ParseKey; keyID, when set,
// is sent as the assertion's kid header so the server can pick the key
// from the client's JWK set.
func NewKey(priv crypto.Signer, alg, keyID string) (*Key, error) { return keys.New(priv, alg, keyID) }
