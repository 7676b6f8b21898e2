package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/registration"
	"github.com/mcpauth/mcpauth/token"
)

// storeCase makes an empty store of one kind for one test.
type storeCase struct {
	name string
	open func(t *testing.T) Store
	// system marks a store on the system keyring, skipped without one.
	system bool
}

// storeCases are every Store implementation, the Keyring store both on a
// fake keyring (one item per record, and split over items as on Windows)
// and on the system keyring when there is one.
func storeCases() []storeCase {
	return []storeCase{
		{"Memory", func(*testing.T) Store { return NewMemory() }, false},
		{"File", func(t *testing.T) Store {
			f, err := NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return f
		}, false},
		{"Keyring/fake", func(t *testing.T) Store { return fakeKeyring(t, &fakeSecrets{}, 0) }, false},
		{"Keyring/fake-split", func(t *testing.T) Store { return fakeKeyring(t, &fakeSecrets{maxSize: 300}, 300) }, false},
		{"Keyring/system", func(t *testing.T) Store { return systemKeyring(t, t.TempDir(), 0) }, true},
		{"Keyring/system-split", func(t *testing.T) Store { return systemKeyring(t, t.TempDir(), 300) }, true},
	}
}

func fakeKeyring(t *testing.T, s *fakeSecrets, limit int) *Keyring {
	t.Helper()
	k, err := newKeyring(context.Background(), Options{Dir: t.TempDir(), Service: "mcpauth-test"}, s, limit)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	keyA  = Key{Resource: "https://mcp.example.com/mcp", Issuer: "https://auth.example.com"}
	keyA2 = Key{Resource: "https://mcp.example.com/mcp", Issuer: "https://other-as.example.net/tenant"}
	keyB  = Key{Resource: "https://tools.example.org/ünïcode/mcp", Issuer: "https://auth.example.com"}
)

// sampleRecord is a record with every field set, big enough to need
// several items on a split keyring.
func sampleRecord(key Key) *Record {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Record{
		Key:               key,
		CanonicalResource: key.Resource,
		Token: &token.Token{
			Token: oauth2.Token{
				AccessToken:  "at-" + strings.Repeat("x", 900),
				TokenType:    "Bearer",
				RefreshToken: "rt-secret",
				Expiry:       at.Add(time.Hour),
			},
			Scope:    []string{"mcp:read", "mcp:write"},
			Issuer:   key.Issuer,
			IssuedAt: at,
		},
		Client: &registration.Client{
			Issuer:       key.Issuer,
			ID:           "client-1",
			Secret:       "client-secret",
			AuthMethod:   "client_secret_basic",
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			RedirectURIs: []string{"http://127.0.0.1/callback"},
			IssuedAt:     at,
		},
		ResourceMetadata: &discovery.ResourceMetadata{
			Resource:             key.Resource,
			AuthorizationServers: []string{key.Issuer},
			ScopesSupported:      []string{"mcp:read", "mcp:write"},
			ResourceName:         "Exämple tools ✓",
		},
		ServerMetadata: &discovery.ServerMetadata{
			Issuer:                key.Issuer,
			AuthorizationEndpoint: key.Issuer + "/authorize",
			TokenEndpoint:         key.Issuer + "/token",
			ScopesSupported:       []string{"mcp:read", "mcp:write", "offline_access"},
		},
		DiscoveredAt:          at,
		RequestedScopes:       []string{"mcp:read"},
		OmitResourceOnRefresh: true,
		Extensions:            map[string][]byte{"dpop": []byte("key material")},
		UpdatedAt:             at,
	}
}

// sameRecord fails t unless got and want encode to the same JSON, which is
// what a persistent store keeps of a record.
func sameRecord(t *testing.T, got, want *Record) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("record differs:\n got %s\nwant %s", g, w)
	}
}

func put(t *testing.T, s Store, r *Record) {
	t.Helper()
	if _, err := s.Update(context.Background(), r.Key, func(*Record) (*Record, error) { return r, nil }); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, s Store, key Key) *Record {
	t.Helper()
	r, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r
}

// counter reads the counter kept in a record's extensions.
func counter(r *Record) int {
	if r == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(r.Extensions["n"]))
	return n
}

// increment is an Update fn adding one to the counter.
func increment(key Key) func(*Record) (*Record, error) {
	return func(r *Record) (*Record, error) {
		n := counter(r)
		if r == nil {
			r = &Record{Key: key}
		}
		if r.Extensions == nil {
			r.Extensions = map[string][]byte{}
		}
		r.Extensions["n"] = []byte(strconv.Itoa(n + 1))
		return r, nil
	}
}

// conformance checks what the Store interface promises.
var conformance = []struct {
	name  string
	check func(t *testing.T, s Store)
}{
	{"LoadOfMissingKeyReturnsErrNotFound", func(t *testing.T, s Store) {
		if _, err := s.Load(context.Background(), keyA); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load = %v, want ErrNotFound", err)
		}
	}},
	{"UpdateStoresWhatLoadReturns", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		got, err := s.Update(context.Background(), keyA, func(old *Record) (*Record, error) {
			if old != nil {
				t.Errorf("fn got %v for a new key, want nil", old)
			}
			return want, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, want)
		sameRecord(t, load(t, s, keyA), want)
	}},
	{"UpdatePassesTheStoredRecord", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		put(t, s, want)
		var seen *Record
		if _, err := s.Update(context.Background(), keyA, func(old *Record) (*Record, error) {
			seen = old
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		sameRecord(t, seen, want)
	}},
	{"UpdateKeepsChangesFnMadeInPlace", func(t *testing.T, s Store) {
		put(t, s, sampleRecord(keyA))
		if _, err := s.Update(context.Background(), keyA, func(old *Record) (*Record, error) {
			old.RequestedScopes[0] = "changed"
			old.Token.Scope[0] = "changed"
			old.Extensions["dpop"][0] = 'X'
			return old, nil
		}); err != nil {
			t.Fatal(err)
		}
		r := load(t, s, keyA)
		if r.RequestedScopes[0] != "changed" || r.Token.Scope[0] != "changed" || r.Extensions["dpop"][0] != 'X' {
			t.Fatalf("changes made in place were not stored: %v %v %q", r.RequestedScopes, r.Token.Scope, r.Extensions["dpop"])
		}
	}},
	{"UpdateReturningTheSameRecordKeepsIt", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		put(t, s, want)
		got, err := s.Update(context.Background(), keyA, func(old *Record) (*Record, error) { return old, nil })
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, want)
		sameRecord(t, load(t, s, keyA), want)
	}},
	{"UpdateStoresUnderItsKeyWhateverFnReturns", func(t *testing.T, s Store) {
		r := sampleRecord(keyB)
		got, err := s.Update(context.Background(), keyA, func(*Record) (*Record, error) { return r, nil })
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != keyA || load(t, s, keyA).Key != keyA {
			t.Errorf("stored under %v, want %v", got.Key, keyA)
		}
		if _, err := s.Load(context.Background(), keyB); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load(keyB) = %v, want ErrNotFound", err)
		}
	}},
	{"UpdateWithFnErrorLeavesRecordUnchanged", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		put(t, s, want)
		boom := errors.New("boom")
		got, err := s.Update(context.Background(), keyA, func(old *Record) (*Record, error) {
			old.Token.AccessToken = "changed"
			old.Extensions["dpop"][0] = 'X'
			return old, boom
		})
		if !errors.Is(err, boom) || got != nil {
			t.Fatalf("Update = %v, %v; want nil, boom", got, err)
		}
		sameRecord(t, load(t, s, keyA), want)
	}},
	{"UpdateWithFnErrorCreatesNothing", func(t *testing.T, s Store) {
		boom := errors.New("boom")
		if _, err := s.Update(context.Background(), keyA, func(*Record) (*Record, error) { return sampleRecord(keyA), boom }); !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want boom", err)
		}
		if _, err := s.Load(context.Background(), keyA); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load = %v, want ErrNotFound", err)
		}
	}},
	{"UpdateReturningNilDeletes", func(t *testing.T, s Store) {
		put(t, s, sampleRecord(keyA))
		put(t, s, sampleRecord(keyB))
		got, err := s.Update(context.Background(), keyA, func(*Record) (*Record, error) { return nil, nil })
		if err != nil || got != nil {
			t.Fatalf("Update = %v, %v; want nil, nil", got, err)
		}
		if _, err := s.Load(context.Background(), keyA); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load = %v, want ErrNotFound", err)
		}
		list, err := s.List(context.Background())
		if err != nil || len(list) != 1 || list[0].Key != keyB {
			t.Fatalf("List = %v, %v; want only %v", list, err, keyB)
		}
	}},
	{"UpdateReturningNilForMissingKeyIsNoop", func(t *testing.T, s Store) {
		got, err := s.Update(context.Background(), keyA, func(*Record) (*Record, error) { return nil, nil })
		if err != nil || got != nil {
			t.Fatalf("Update = %v, %v; want nil, nil", got, err)
		}
	}},
	{"DeleteRemovesOnlyItsKey", func(t *testing.T, s Store) {
		put(t, s, sampleRecord(keyA))
		put(t, s, sampleRecord(keyA2))
		if err := s.Delete(context.Background(), keyA); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(context.Background(), keyA); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load = %v, want ErrNotFound", err)
		}
		sameRecord(t, load(t, s, keyA2), sampleRecord(keyA2))
	}},
	{"DeleteOfMissingKeyIsNotAnError", func(t *testing.T, s Store) {
		if err := s.Delete(context.Background(), keyA); err != nil {
			t.Fatal(err)
		}
	}},
	{"ListReturnsEveryRecord", func(t *testing.T, s Store) {
		if list, err := s.List(context.Background()); err != nil || len(list) != 0 {
			t.Fatalf("List of empty store = %v, %v", list, err)
		}
		want := map[Key]*Record{}
		for _, k := range []Key{keyA, keyA2, keyB} {
			want[k] = sampleRecord(k)
			put(t, s, want[k])
		}
		list, err := s.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(want) {
			t.Fatalf("List returned %d records, want %d", len(list), len(want))
		}
		for _, r := range list {
			if want[r.Key] == nil {
				t.Fatalf("List returned unexpected key %v", r.Key)
			}
			sameRecord(t, r, want[r.Key])
			delete(want, r.Key)
		}
	}},
	{"SameResourceAtAnotherIssuerIsAnotherRecord", func(t *testing.T, s Store) {
		// AS-2: credentials of one authorization server are never
		// handed out for another.
		a, a2 := sampleRecord(keyA), sampleRecord(keyA2)
		a2.Token.AccessToken = "at-of-the-other-issuer"
		put(t, s, a)
		put(t, s, a2)
		sameRecord(t, load(t, s, keyA), a)
		sameRecord(t, load(t, s, keyA2), a2)
	}},
	{"LoadReturnsACopy", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		put(t, s, want)
		r := load(t, s, keyA)
		r.CanonicalResource = "changed"
		r.Token.AccessToken = "changed"
		r.Client.Secret = "changed"
		r.Extensions["dpop"][0] = 'X'
		r.Extensions["new"] = nil
		sameRecord(t, load(t, s, keyA), want)
	}},
	{"ListReturnsCopies", func(t *testing.T, s Store) {
		want := sampleRecord(keyA)
		put(t, s, want)
		list, err := s.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		list[0].Token.RefreshToken = "changed"
		list[0].Extensions["dpop"][0] = 'X'
		sameRecord(t, load(t, s, keyA), want)
	}},
	{"UpdateKeepsNoReferenceToFnResultOrItsOwnResult", func(t *testing.T, s Store) {
		in := sampleRecord(keyA)
		out, err := s.Update(context.Background(), keyA, func(*Record) (*Record, error) { return in, nil })
		if err != nil {
			t.Fatal(err)
		}
		in.Token.AccessToken = "changed-in"
		in.Extensions["dpop"][0] = 'X'
		out.Client.Secret = "changed-out"
		out.Extensions["dpop"][0] = 'Y'
		sameRecord(t, load(t, s, keyA), sampleRecord(keyA))
	}},
	{"ConcurrentUpdatesAreSerialised", func(t *testing.T, s Store) {
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Go(func() {
				for range each {
					if _, err := s.Update(context.Background(), keyA, increment(keyA)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := counter(load(t, s, keyA)); n != workers*each {
			t.Fatalf("counter = %d, want %d: an update was lost", n, workers*each)
		}
	}},
}

// TestStoreConformance runs the Store contract against every store.
func TestStoreConformance(t *testing.T) {
	for _, sc := range storeCases() {
		t.Run(sc.name, func(t *testing.T) {
			if sc.system {
				systemKeyring(t, t.TempDir(), 0) // skips them all at once
			}
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) { c.check(t, sc.open(t)) })
			}
		})
	}
}
