package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

func TestParseFormats(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec256)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: ec384, KeyID: "k1", Algorithm: "ES384"})

	for _, tc := range []struct {
		name, alg, wantAlg, wantKID string
		data                        []byte
	}{
		{"pkcs8 P-256", "", "ES256", "", pkcs8(t, ec256)},
		{"sec1 P-256", "ES256", "ES256", "", pemOf(t, "EC PRIVATE KEY", sec1)},
		{"pkcs1 RSA", "", "RS256", "", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"pkcs8 RSA PS256", "PS256", "PS256", "", pkcs8(t, rsaKey)},
		{"pkcs8 Ed25519", "", "EdDSA", "", pkcs8(t, edKey)},
		{"JWK P-384 with kid and alg", "", "ES384", "k1", jwk},
		{"JWK with surrounding space", "", "ES384", "k1", append(append([]byte("\n  "), jwk...), '\n')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Parse(tc.data, tc.alg)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if k.Algorithm() != tc.wantAlg || k.KeyID() != tc.wantKID {
				t.Errorf("alg %s kid %q, want %s %q", k.Algorithm(), k.KeyID(), tc.wantAlg, tc.wantKID)
			}
			jws, err := k.Sign(map[string]any{"x": 1}, SignOptions{})
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.wantAlg)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := obj.Verify(k.Signer().Public()); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
		})
	}
}

// TestParseErrors: each bad input gets a clear error, of the right kind,
// that quotes nothing of the input.
func TestParseErrors(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey})
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: ec})
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224DER, _ := x509.MarshalECPrivateKey(p224)
	ecPEM := pkcs8(t, ec)
	for _, tc := range []struct {
		name, alg string
		data      []byte
		want      error
		mention   string
	}{
		{"empty", "", nil, ErrNoKey, "empty"},
		{"blank", "", []byte("  \n"), ErrNoKey, "empty"},
		{"garbage", "", []byte("not a key at all"), ErrNoKey, "neither a JWK nor PEM"},
		{"bad JSON", "", []byte(`{"kty":`), ErrNoKey, "not a valid JWK"},
		{"public JWK", "", pubJWK, ErrPublicKeyOnly, `"d"`},
		{"public PEM", "", pemOf(t, "PUBLIC KEY", pubDER), ErrPublicKeyOnly, "PUBLIC KEY"},
		{"certificate", "", pemOf(t, "CERTIFICATE", []byte{1, 2, 3}), ErrPublicKeyOnly, "CERTIFICATE"},
		{"encrypted PEM", "", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), ErrNoKey, "encrypted"},
		{"corrupt PEM", "", pemOf(t, "PRIVATE KEY", []byte("corrupt")), ErrNoKey, "does not parse"},
		{"symmetric JWK", "", []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}`), ErrWrongKeyType, "symmetric"},
		{"EC key, RSA alg", "RS256", ecPEM, ErrWrongKeyType, "ES256, not RS256"},
		{"EC key, other curve's alg", "ES384", privJWK, ErrWrongKeyType, "not ES384"},
		{"small RSA", "", pkcs8(t, small), ErrWrongKeyType, "1024 bits"},
		{"P-224", "", pemOf(t, "EC PRIVATE KEY", p224DER), ErrWrongKeyType, "P-224"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data, tc.alg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
			if leaks(err.Error(), tc.data) {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

// leaks reports whether msg holds a run of 16 characters of the input's
// key material (a PEM body line or a JWK member value).
func leaks(msg string, data []byte) bool {
	for _, line := range strings.FieldsFunc(string(data), func(r rune) bool { return strings.ContainsRune("\n\"{},:", r) }) {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
			return true
		}
	}
	return false
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, "", ""); !errors.Is(err, ErrNoKey) {
		t.Errorf("nil key: %v", err)
	}
	var s crypto.Signer = fakeSigner{}
	if _, err := New(s, "", ""); !errors.Is(err, ErrWrongKeyType) {
		t.Errorf("unknown signer: %v", err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := New(ed, "ES256", ""); !errors.Is(err, ErrWrongKeyType) {
		t.Errorf("Ed25519 with ES256: %v", err)
	}
}

type fakeSigner struct{}

func (fakeSigner) Public() crypto.PublicKey { return nil }
func (fakeSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no")
}

func TestMarshalRoundTrip(t *testing.T) {
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.MarshalJWK()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := Parse(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if k2.Thumbprint() != k.Thumbprint() || k2.Algorithm() != "ES256" {
		t.Errorf("round trip changed the key: %s vs %s", k2, k)
	}
	pub := k.Public()
	tp, _ := pub.Thumbprint(crypto.SHA256)
	if got := base64.RawURLEncoding.EncodeToString(tp); got != k.Thumbprint() {
		t.Errorf("thumbprint %s, want %s", k.Thumbprint(), got)
	}
}

// TestFormatHidesKey: no fmt verb prints key material.
func TestFormatHidesKey(t *testing.T) {
	k, _ := Generate()
	raw, _ := k.MarshalJWK()
	var priv struct{ D string }
	if err := json.Unmarshal(raw, &priv); err != nil || priv.D == "" {
		t.Fatalf("no d in %v", err)
	}
	d := priv.D
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		out := fmt.Sprintf(verb, k)
		if strings.Contains(out, d) || !strings.Contains(out, "ES256") {
			t.Errorf("%s printed %q", verb, out)
		}
	}
	if out := fmt.Sprintf("%v", struct{ K *Key }{k}); strings.Contains(out, d) {
		t.Errorf("a struct holding the key printed %q", out)
	}
}

func TestSignEmbedsPublicJWKOnly(t *testing.T) {
	k, _ := Generate()
	jws, err := k.Sign(map[string]any{"a": "b"}, SignOptions{Type: "dpop+jwt", EmbedJWK: true})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	jwk, _ := h["jwk"].(map[string]any)
	if h["typ"] != "dpop+jwt" || h["alg"] != "ES256" || jwk == nil || jwk["d"] != nil || jwk["kty"] != "EC" {
		t.Errorf("header = %v", h)
	}
}

func TestNewJTIUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		j, err := NewJTI()
		if err != nil {
			t.Fatal(err)
		}
		if seen[j] || len(j) != 22 {
			t.Fatalf("jti %q repeated or malformed", j)
		}
		seen[j] = true
	}
}
