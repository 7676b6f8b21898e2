package dpop

import (
	"crypto"

	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

// Key is the client's DPoP key pair with its JWS algorithm; the same type
// as jwtauth.Key. Formatting a Key prints its algorithm and thumbprint,
// never key material.
type Key = keys.Key

// Errors for bad keys, to test with errors.Is.
var (
	ErrNoKey         = keys.ErrNoKey
	ErrPublicKeyOnly = keys.ErrPublicKeyOnly
	ErrWrongKeyType  = keys.ErrWrongKeyType
)

// GenerateKey returns a new P-256 key for ES256, which every DPoP server
// supports.
func GenerateKey() (*Key, error) { return keys.Generate() }

// ParseKey reads a private key from a JWK or PEM; see jwtauth.ParseKey.
// alg must be one the authorization server lists in
// dpop_signing_alg_values_supported; empty picks the key's usual one.
func ParseKey(data []byte, alg string) (*Key, error) { return keys.Parse(data, alg) }

// NewKey wraps an *ecdsa.PrivateKey, *rsa.PrivateKey or
// ed25519.PrivateKey, such as one held in a hardware module behind a
// crypto.Signer of those types.
func NewKey(priv crypto.Signer, alg string) (*Key, error) { return keys.New(priv, alg, "") }
