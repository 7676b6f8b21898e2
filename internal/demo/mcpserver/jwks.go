package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRefetch bounds how often an unknown key id triggers a JWKS refetch.
const minRefetch = 5 * time.Second

// keySource finds the authorization server's signing keys: RFC 8414
// metadata (falling back to OpenID Connect Discovery) names the jwks_uri;
// the key set is cached and refetched when a token names an unknown key.
type keySource struct {
	issuer string
	client *http.Client

	mu      sync.Mutex
	jwksURI string
	keys    jose.JSONWebKeySet
	fetched time.Time
}

var errUnknownKey = errors.New("unknown signing key")

func (k *keySource) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if found := k.keys.Key(kid); len(found) > 0 {
		return &found[0], nil
	}
	if !k.fetched.IsZero() && time.Since(k.fetched) < minRefetch {
		return nil, errUnknownKey
	}
	if err := k.refreshLocked(ctx); err != nil {
		return nil, err
	}
	if found := k.keys.Key(kid); len(found) > 0 {
		return &found[0], nil
	}
	return nil, errUnknownKey
}

func (k *keySource) refreshLocked(ctx context.Context) error {
	if k.jwksURI == "" {
		uri, err := k.discover(ctx)
		if err != nil {
			return err
		}
		k.jwksURI = uri
	}
	var set jose.JSONWebKeySet
	if err := k.getJSON(ctx, k.jwksURI, &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	k.keys, k.fetched = set, time.Now()
	return nil
}

// discover reads the AS metadata, checking its issuer (RFC 8414 §3.3).
func (k *keySource) discover(ctx context.Context) (string, error) {
	var lastErr error
	for _, wk := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := k.getJSON(ctx, k.issuer+wk, &md); err != nil {
			lastErr = err
			continue
		}
		if md.Issuer != k.issuer {
			return "", fmt.Errorf("authorization server metadata: issuer %q, want %q", md.Issuer, k.issuer)
		}
		if md.JWKSURI == "" {
			return "", errors.New("authorization server metadata has no jwks_uri")
		}
		return md.JWKSURI, nil
	}
	return "", fmt.Errorf("authorization server metadata: %w", lastErr)
}

func (k *keySource) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
