package dpop

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth/store"
)

// ExtensionName is the store.Record.Extensions entry that holds the DPoP
// key, as a private JWK.
const ExtensionName = "dpop"

// LoadOrCreateKey returns the DPoP key kept with the credentials for the
// MCP server at resource (the URL the mcpauth.Transport is made for) in
// st, or a new ES256 key when none is kept. It also returns st wrapped so
// that every record it saves for resource keeps the key: pass that store
// as mcpauth.Config.Store, and a DPoP-bound refresh token still works
// after a restart.
//
// When several records for resource hold keys (one per authorization
// server), the key of the most recently updated record holding a token
// wins, and is then saved into each.
func LoadOrCreateKey(ctx context.Context, st store.Store, resource string) (*Key, store.Store, error) {
	recs, err := st.List(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("dpop: reading the credential store: %w", err)
	}
	var best *store.Record
	for _, r := range recs {
		if r.Resource != resource || len(r.Extensions[ExtensionName]) == 0 {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	var key *Key
	if best != nil {
		if key, err = ParseKey(best.Extensions[ExtensionName], ""); err != nil {
			return nil, nil, fmt.Errorf("dpop: the key stored for %s (issuer %s) is unusable: %w", resource, best.Issuer, err)
		}
	} else if key, err = GenerateKey(); err != nil {
		return nil, nil, fmt.Errorf("dpop: %w", err)
	}
	raw, err := key.MarshalJWK()
	if err != nil {
		return nil, nil, fmt.Errorf("dpop: %w", err)
	}
	return key, &keyStore{Store: st, resource: resource, raw: raw}, nil
}

// better ranks records for the choice of key: holding a token first,
// then the most recently updated.
func better(a, b *store.Record) bool {
	if (a.Token != nil) != (b.Token != nil) {
		return a.Token != nil
	}
	return a.UpdatedAt.After(b.UpdatedAt)
}

// keyStore is a store.Store that writes the DPoP key into every record it
// saves for one resource.
type keyStore struct {
	store.Store
	resource string
	raw      []byte
}

// Update implements store.Store.
func (s *keyStore) Update(ctx context.Context, key store.Key, fn func(*store.Record) (*store.Record, error)) (*store.Record, error) {
	if key.Resource != s.resource {
		return s.Store.Update(ctx, key, fn)
	}
	return s.Store.Update(ctx, key, func(r *store.Record) (*store.Record, error) {
		next, err := fn(r)
		if err != nil || next == nil {
			return next, err
		}
		if next.Extensions == nil {
			next.Extensions = make(map[string][]byte, 1)
		}
		next.Extensions[ExtensionName] = append([]byte(nil), s.raw...)
		return next, nil
	})
}
