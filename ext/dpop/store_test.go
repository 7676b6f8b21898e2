package dpop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/ext/dpop"
	"github.com/mcpauth/mcpauth/store"
	"github.com/mcpauth/mcpauth/token"
)

const resource = "https://mcp.example.com/mcp"

func save(t *testing.T, st store.Store, key store.Key, fn func(*store.Record)) {
	t.Helper()
	_, err := st.Update(context.Background(), key, func(r *store.Record) (*store.Record, error) {
		if r == nil {
			r = &store.Record{}
		}
		fn(r)
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	k1, st, err := dpop.LoadOrCreateKey(ctx, mem, resource)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Algorithm() != "ES256" {
		t.Errorf("new key alg %s", k1.Algorithm())
	}

	// Records saved through the wrapper for this resource keep the key;
	// others are left alone.
	mine := store.Key{Resource: resource, Issuer: "https://as.example"}
	other := store.Key{Resource: "https://other.example/mcp", Issuer: "https://as.example"}
	save(t, st, mine, func(r *store.Record) { r.Token = &token.Token{} })
	save(t, st, other, func(r *store.Record) {})
	if r, _ := mem.Load(ctx, other); len(r.Extensions) != 0 {
		t.Errorf("another resource's record got the key")
	}
	r, _ := mem.Load(ctx, mine)
	if !strings.Contains(string(r.Extensions[dpop.ExtensionName]), `"d"`) {
		t.Fatalf("the record does not hold the private key")
	}

	// After a restart, the same key.
	k2, _, err := dpop.LoadOrCreateKey(ctx, mem, resource)
	if err != nil || k2.Thumbprint() != k1.Thumbprint() {
		t.Fatalf("reloaded key %v, %v; want %v", k2, err, k1)
	}

	// A fresh store for another resource makes another key.
	k3, _, _ := dpop.LoadOrCreateKey(ctx, mem, "https://other.example/mcp")
	if k3.Thumbprint() == k1.Thumbprint() {
		t.Error("two resources share a key")
	}

	// Deleting a record through the wrapper still deletes it.
	if _, err := st.Update(ctx, mine, func(*store.Record) (*store.Record, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Load(ctx, mine); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record not deleted: %v", err)
	}
}

// TestLoadOrCreateKeyPrefersTokenHolder: of several stored keys, the one
// of the newest record holding a token wins.
func TestLoadOrCreateKeyPrefersTokenHolder(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	a, b := mustKey(t), mustKey(t)
	ja, _ := a.MarshalJWK()
	jb, _ := b.MarshalJWK()
	now := time.Now()
	save(t, mem, store.Key{Resource: resource, Issuer: "https://as-a"}, func(r *store.Record) {
		r.Extensions = map[string][]byte{dpop.ExtensionName: ja}
		r.Token, r.UpdatedAt = &token.Token{}, now.Add(-time.Hour)
	})
	save(t, mem, store.Key{Resource: resource, Issuer: "https://as-b"}, func(r *store.Record) {
		r.Extensions = map[string][]byte{dpop.ExtensionName: jb}
		r.UpdatedAt = now // newer, but holds no token
	})
	k, _, err := dpop.LoadOrCreateKey(ctx, mem, resource)
	if err != nil || k.Thumbprint() != a.Thumbprint() {
		t.Errorf("got %v, %v; want %v", k, err, a)
	}
}

func TestLoadOrCreateKeyCorrupt(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	save(t, mem, store.Key{Resource: resource, Issuer: "https://as"}, func(r *store.Record) {
		r.Extensions = map[string][]byte{dpop.ExtensionName: []byte(`{"kty":"EC","crv":"P-256"}`)}
	})
	_, _, err := dpop.LoadOrCreateKey(ctx, mem, resource)
	if !errors.Is(err, dpop.ErrNoKey) || !strings.Contains(err.Error(), "unusable") {
		t.Errorf("err = %v", err)
	}
}

type failingStore struct{ store.Store }

func (failingStore) List(context.Context) ([]*store.Record, error) {
	return nil, errors.New("disk on fire")
}

func TestLoadOrCreateKeyStoreError(t *testing.T) {
	_, _, err := dpop.LoadOrCreateKey(context.Background(), failingStore{store.NewMemory()}, resource)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}
