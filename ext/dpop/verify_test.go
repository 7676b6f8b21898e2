package dpop_test

import (
	"crypto"
	"encoding/base64"
	"fmt"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mcpauth/mcpauth/ext/internal/keys"
)

// proof is a checked DPoP proof.
type proof struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
	// JKT is the thumbprint of the key in the jwk header.
	JKT string `json:"-"`
}

// checkProof verifies the DPoP proof of r as a server would (RFC 9449
// §4.3): one header, typ, an asymmetric alg, a public jwk that verifies
// the signature, htm and htu matching the request, and ath matching
// accessToken when one is presented.
func checkProof(r *http.Request, accessToken string) (*proof, error) {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return nil, fmt.Errorf("%d DPoP headers", len(vals))
	}
	jws, err := jose.ParseSignedCompact(vals[0], []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil {
		return nil, fmt.Errorf("proof does not parse: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "dpop+jwt" {
		return nil, fmt.Errorf("typ %v", h.ExtraHeaders["typ"])
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return nil, fmt.Errorf("jwk header missing or private")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	var p proof
	if err := jsonUnmarshal(payload, &p); err != nil {
		return nil, err
	}
	if p.HTM != r.Method {
		return nil, fmt.Errorf("htm %q for %s", p.HTM, r.Method)
	}
	if want := "http://" + r.Host + r.URL.Path; p.HTU != want {
		return nil, fmt.Errorf("htu %q, want %q", p.HTU, want)
	}
	if p.JTI == "" || p.IAT == 0 {
		return nil, fmt.Errorf("jti or iat missing")
	}
	if accessToken != "" && p.ATH != keys.HashToken(accessToken) {
		return nil, fmt.Errorf("ath %q does not match the token", p.ATH)
	}
	if accessToken == "" && p.ATH != "" {
		return nil, fmt.Errorf("ath in a proof without a token")
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	p.JKT = base64.RawURLEncoding.EncodeToString(tp)
	return &p, nil
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
