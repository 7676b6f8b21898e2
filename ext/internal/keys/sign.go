package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// SignOptions shape the protected header of a signed JWT.
type SignOptions struct {
	// Type is the typ header, such as "dpop+jwt"; empty omits it.
	Type string
	// EmbedJWK puts the public key in the jwk header (RFC 9449 §4.2);
	// otherwise the kid header names the key, when it has an ID.
	EmbedJWK bool
}

// Sign returns claims, marshalled to JSON, as a compact JWS signed by k.
func (k *Key) Sign(claims any, opts SignOptions) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding JWT claims: %w", err)
	}
	so := &jose.SignerOptions{EmbedJWK: opts.EmbedJWK}
	if opts.Type != "" {
		so.WithType(jose.ContentType(opts.Type))
	}
	var sk any = k.priv
	if !opts.EmbedJWK && k.kid != "" {
		sk = jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(k.alg)}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: sk}, so)
	if err != nil {
		return "", fmt.Errorf("%w: %s cannot sign with this key: %v", ErrWrongKeyType, k.alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing a %s JWT: %w", k.alg, err)
	}
	return jws.CompactSerialize()
}

// NewJTI returns a fresh JWT ID: 128 random bits, base64url.
func NewJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
