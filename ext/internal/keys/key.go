// Package keys holds the asymmetric signing keys the extensions sign JWTs
// with: private_key_jwt client assertions (RFC 7523 §2.2) and DPoP proofs
// (RFC 9449 §4). It parses keys from PEM or JWK, infers and checks the JWS
// algorithm, and never lets key material reach a log or an error message.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const MinRSABits = 2048

// Errors a caller may test for with errors.Is. They are returned wrapped
// with a reason that never quotes the key.
var (
	// ErrNoKey: no key was given, or the input holds none.
	ErrNoKey = errors.New("no private key")
	// ErrPublicKeyOnly: the input holds a public key or a certificate,
	// which cannot sign.
	ErrPublicKeyOnly = errors.New("the key is public only; a private key is needed to sign")
	// ErrWrongKeyType: the key cannot sign with the requested algorithm,
	// or is of a kind no JWS algorithm here accepts (such as a symmetric
	// key, or RSA under 2048 bits).
	ErrWrongKeyType = errors.New("wrong key type")
)

// Key is a private key with the JWS algorithm it signs with. Its zero
// value is not usable; get one from Parse, New or Generate. Formatting a
// Key with fmt prints its algorithm and thumbprint only.
type Key struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	kid  string
	// thumb is the RFC 7638 SHA-256 thumbprint of the public key,
	// base64url.
	thumb string
}

// New returns a key for priv, an *ecdsa.PrivateKey, *rsa.PrivateKey or
// ed25519.PrivateKey. alg is the JWS algorithm ("ES256", "PS256", ...);
// empty picks the usual one for the key: ES256/ES384/ES512 by curve, RS256
// for RSA, EdDSA for Ed25519. keyID, if set, is sent as the kid header of
// client assertions.
func New(priv crypto.Signer, alg, keyID string) (*Key, error) {
	if priv == nil {
		return nil, ErrNoKey
	}
	a, err := algorithmFor(priv, alg)
	if err != nil {
		return nil, err
	}
	k := &Key{priv: priv, alg: a, kid: keyID}
	pub := k.Public()
	t, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: computing the key thumbprint: %v", ErrWrongKeyType, err)
	}
	k.thumb = base64.RawURLEncoding.EncodeToString(t)
	return k, nil
}

// Generate returns a new P-256 key for ES256, the algorithm every DPoP and
// private_key_jwt implementation supports.
func Generate() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a P-256 key: %w", err)
	}
	return New(priv, string(jose.ES256), "")
}

// Algorithm returns the JWS algorithm, such as "ES256".
func (k *Key) Algorithm() string { return string(k.alg) }

// KeyID returns the key ID, or "".
func (k *Key) KeyID() string { return k.kid }

// Thumbprint returns the key's JWK SHA-256 thumbprint (RFC 7638),
// base64url-encoded: the jkt an authorization server binds DPoP tokens to
// (RFC 9449 §6.1).
func (k *Key) Thumbprint() string { return k.thumb }

// Public returns the public key as a JWK, with the algorithm and key ID.
func (k *Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), Algorithm: string(k.alg), KeyID: k.kid, Use: "sig"}
}

// Signer returns the private key.
func (k *Key) Signer() crypto.Signer { return k.priv }

// Format implements fmt.Formatter so that no verb prints key material.
func (k *Key) Format(f fmt.State, _ rune) {
	if k == nil {
		fmt.Fprint(f, "<nil key>")
		return
	}
	fmt.Fprintf(f, "%s key %s", k.alg, k.thumb)
}

// algorithmFor returns alg, or the default for priv, after checking
// that priv can sign with it.
func algorithmFor(priv crypto.Signer, alg string) (jose.SignatureAlgorithm, error) {
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		var want jose.SignatureAlgorithm
		switch p.Curve {
		case elliptic.P256():
			want = jose.ES256
		case elliptic.P384():
			want = jose.ES384
		case elliptic.P521():
			want = jose.ES512
		default:
			return "", fmt.Errorf("%w: EC curve %s is not one JWS uses (P-256, P-384, P-521)", ErrWrongKeyType, p.Curve.Params().Name)
		}
		if alg != "" && jose.SignatureAlgorithm(alg) != want {
			return "", fmt.Errorf("%w: an EC key on %s signs with %s, not %s", ErrWrongKeyType, p.Curve.Params().Name, want, alg)
		}
		return want, nil
	case *rsa.PrivateKey:
		if p.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("%w: the RSA key has %d bits; at least %d are needed", ErrWrongKeyType, p.N.BitLen(), MinRSABits)
		}
		switch a := jose.SignatureAlgorithm(alg); a {
		case "":
			return jose.RS256, nil
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return a, nil
		}
		return "", fmt.Errorf("%w: an RSA key signs with RS256..RS512 or PS256..PS512, not %s", ErrWrongKeyType, alg)
	case ed25519.PrivateKey:
		if alg != "" && alg != string(jose.EdDSA) && alg != "Ed25519" {
			return "", fmt.Errorf("%w: an Ed25519 key signs with EdDSA, not %s", ErrWrongKeyType, alg)
		}
		return jose.EdDSA, nil
	case *ed25519.PrivateKey:
		if p == nil {
			return "", ErrNoKey
		}
		return algorithmFor(*p, alg)
	}
	return "", fmt.Errorf("%w: %T keys cannot sign JWTs; use an EC (P-256), RSA or Ed25519 private key", ErrWrongKeyType, priv)
}

// hashB64 returns the base64url SHA-256 of b.
func hashB64(b []byte) string {
	h := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// HashToken returns the base64url SHA-256 hash of an access token: the
// ath claim of a DPoP proof (RFC 9449 §4.2).
func HashToken(accessToken string) string { return hashB64([]byte(accessToken)) }
