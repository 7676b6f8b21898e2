package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeSecrets is an in-memory keyring. maxSize, when set, refuses bigger
// secrets as Windows Credential Manager does; err fails every call; hang
// blocks every call until closed.
type fakeSecrets struct {
	mu      sync.Mutex
	items   map[[2]string]string
	maxSize int
	err     error
	hang    chan struct{}
	calls   int
	// failSet, when it returns true for an account, makes Set fail.
	failSet func(user string) bool
}

func (f *fakeSecrets) enter() error {
	if f.hang != nil {
		<-f.hang
	}
	f.mu.Lock()
	f.calls++
	return f.err
}

func (f *fakeSecrets) Set(service, user, secret string) error {
	err := f.enter()
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	if f.failSet != nil && f.failSet(user) {
		return errors.New("fake keyring: set failed")
	}
	if f.maxSize > 0 && len(secret) > f.maxSize {
		return keyring.ErrSetDataTooBig
	}
	if f.items == nil {
		f.items = make(map[[2]string]string)
	}
	f.items[[2]string{service, user}] = secret
	return nil
}

func (f *fakeSecrets) Get(service, user string) (string, error) {
	err := f.enter()
	defer f.mu.Unlock()
	if err != nil {
		return "", err
	}
	v, ok := f.items[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeSecrets) Delete(service, user string) error {
	err := f.enter()
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	k := [2]string{service, user}
	if _, ok := f.items[k]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, k)
	return nil
}

// accounts returns the accounts of service's items that start with prefix.
func (f *fakeSecrets) accounts(service, prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		if k[0] == service && strings.HasPrefix(k[1], prefix) {
			out = append(out, k[1])
		}
	}
	return out
}

// requireKeyringEnv, set to 1, turns a missing system keyring from a
// skipped test into a failed one; scripts/with-keyring.sh sets it.
const requireKeyringEnv = "MCPAUTH_REQUIRE_KEYRING"

// systemKeyring returns a Keyring store on the real system keyring under a
// service name of its own, whose items it deletes when the test ends. It
// skips the test when there is no keyring, unless MCPAUTH_REQUIRE_KEYRING=1.
func systemKeyring(t *testing.T, dir string, limit int) *Keyring {
	t.Helper()
	gen, err := newGeneration()
	if err != nil {
		t.Fatal(err)
	}
	service := fmt.Sprintf("mcpauth-test-%d-%s", os.Getpid(), gen)
	k, err := newKeyring(context.Background(), Options{Dir: dir, Service: service, ProbeTimeout: 5 * time.Second}, systemSecrets{}, limit)
	if errors.Is(err, ErrKeyringUnavailable) {
		if os.Getenv(requireKeyringEnv) == "1" {
			t.Fatalf("%s=1 but %v", requireKeyringEnv, err)
		}
		t.Skipf("no system keyring (%v): run under scripts/with-keyring.sh to test against Secret Service", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keyring.DeleteAll(service) })
	return k
}
