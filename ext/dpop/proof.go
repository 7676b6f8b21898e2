package dpop

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

// ProofType is the typ header of a DPoP proof (RFC 9449 §4.2).
const ProofType = "dpop+jwt"

// ProofRequest is what a proof is bound to.
type ProofRequest struct {
	// Method is the HTTP method (htm).
	Method string
	// URL is the request URL; its query and fragment are dropped for htu.
	URL *url.URL
	// AccessToken, when set, is hashed into ath: for requests to a
	// resource server (RFC 9449 §7).
	AccessToken string
	// Nonce is the server-provided nonce, when one is known (§8, §9).
	Nonce string
	// Time is the iat; zero means now.
	Time time.Time
}

// proofClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type proofClaims struct {
	ID       string `json:"jti"`
	Method   string `json:"htm"`
	URI      string `json:"htu"`
	IssuedAt int64  `json:"iat"`
	ATH      string `json:"ath,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
}

// Proof returns a new DPoP proof for r signed with k: a JWT with typ
// dpop+jwt, the public key in its jwk header, and a fresh jti.
func Proof(k *Key, r ProofRequest) (string, error) {
	if k == nil {
		return "", fmt.Errorf("dpop: %w", ErrNoKey)
	}
	if r.Method == "" || r.URL == nil {
		return "", errors.New("dpop: a proof needs the request method and URL")
	}
	htu, err := TargetURI(r.URL)
	if err != nil {
		return "", err
	}
	jti, err := keys.NewJTI()
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	iat := r.Time
	if iat.IsZero() {
		iat = time.Now()
	}
	c := proofClaims{ID: jti, Method: r.Method, URI: htu, IssuedAt: iat.Unix(), Nonce: r.Nonce}
	if r.AccessToken != "" {
		c.ATH = keys.HashToken(r.AccessToken)
	}
	jwt, err := k.Sign(c, keys.SignOptions{Type: ProofType, EmbedJWK: true})
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	return jwt, nil
}

// TargetURI returns the htu value for u: scheme, host and path, without
// query and fragment (RFC 9449 §4.2), the scheme and host lower-cased and
// an empty path written as "/".
func TargetURI(u *url.URL) (string, error) {
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("dpop: %q is not an absolute URL", u.Redacted())
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + path, nil
}
