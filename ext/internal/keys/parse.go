package keys

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// Parse reads a private key from data: a JWK (a JSON object with the
// private members), or PEM holding a PKCS #8 "PRIVATE KEY", an
// "EC PRIVATE KEY" or an "RSA PRIVATE KEY". alg is the JWS algorithm to
// sign with; empty takes the JWK's "alg", else the default for the key
// (see New). Errors say what is wrong without quoting the input.
func Parse(data []byte, alg string) (*Key, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the key input is empty", ErrNoKey)
	}
	if data[0] == '{' {
		return parseJWK(data, alg)
	}
	return parsePEM(data, alg)
}

func parseJWK(data []byte, alg string) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(data, &jwk); err != nil {
		// go-jose's messages name the fault (unknown kty, bad curve), not
		// the key's contents; a JSON syntax error gives an offset only.
		return nil, fmt.Errorf("%w: not a valid JWK: %v", ErrNoKey, err)
	}
	if _, sym := jwk.Key.([]byte); sym {
		return nil, fmt.Errorf("%w: the JWK is a symmetric (oct) key; signing needs an asymmetric private key", ErrWrongKeyType)
	}
	if jwk.IsPublic() {
		return nil, fmt.Errorf("%w (the JWK has no private member \"d\")", ErrPublicKeyOnly)
	}
	priv, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: a %T JWK cannot sign", ErrWrongKeyType, jwk.Key)
	}
	if alg == "" {
		alg = jwk.Algorithm
	}
	return New(priv, alg, jwk.KeyID)
}

func parsePEM(data []byte, alg string) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: the input is neither a JWK nor PEM", ErrNoKey)
	}
	var (
		priv any
		err  error
	)
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w (the PEM block is a %s)", ErrPublicKeyOnly, block.Type)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: the PEM key is encrypted; decrypt it first", ErrNoKey)
	default:
		return nil, fmt.Errorf("%w: a PEM %q block holds no private key this package reads", ErrWrongKeyType, block.Type)
	}
	if err != nil {
		// x509 errors describe the structure, never the key bytes.
		return nil, fmt.Errorf("%w: the PEM %s block does not parse: %v", ErrNoKey, block.Type, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T keys cannot sign JWTs", ErrWrongKeyType, priv)
	}
	if ed, ok := signer.(*ed25519.PrivateKey); ok {
		signer = *ed
	}
	return New(signer, alg, "")
}

// MarshalJWK returns the private key as a JWK (RFC 7517), with its
// algorithm and key ID, for storage. The result is a secret.
func (k *Key) MarshalJWK() ([]byte, error) {
	jwk := jose.JSONWebKey{Key: k.priv, Algorithm: string(k.alg), KeyID: k.kid, Use: "sig"}
	b, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding the %s key as a JWK: %w", k.alg, err)
	}
	return b, nil
}
