package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultService is the keyring service name items are stored under.
const DefaultService = "mcpauth"

// DefaultProbeTimeout bounds how long NewKeyring waits for the keyring to
// answer its probe.
const DefaultProbeTimeout = 10 * time.Second

const (
	// keyringLockFile, in the store directory, serialises Keyring Updates.
	keyringLockFile = "keyring.lock"
	// indexItem is the blob listing the keys of all records, as no
	// keyring API go-keyring offers can enumerate items.
	indexItem = "index"
	// keyringFormat is the version of the JSON this package keeps in
	// keyring items and the newest it reads.
	keyringFormat = 1
)

// ErrKeyringUnavailable matches (with errors.Is) a
// [*KeyringUnavailableError].
var ErrKeyringUnavailable = errors.New("no usable system keyring")

// KeyringUnavailableError reports that no keyring service answered: a
// headless Linux machine or CI runner without a Secret Service, a locked
// keyring whose unlock prompt nobody answered, and the like.
type KeyringUnavailableError struct {
	Err error // why
}

func (e *KeyringUnavailableError) Error() string {
	return "mcpauth store: no usable system keyring: " + e.Err.Error()
}

func (e *KeyringUnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is ErrKeyringUnavailable.
func (e *KeyringUnavailableError) Is(target error) bool { return target == ErrKeyringUnavailable }

// Keyring is a Store in the operating system's keyring (REF-1, TOK-3:
// tokens at rest are encrypted by the keyring service): Secret Service on
// Linux and BSD, the login Keychain on macOS, Credential Manager on
// Windows, all through go-keyring.
//
// Each record is one item of service [DefaultService] (or
// Options.Service), account "record-" plus a hash of its resource and
// issuer, holding the record as JSON. One more item, "index", lists the
// keys of all records so that List works. Windows and macOS limit an
// item to about 2.5 KB, which a record with discovery metadata and a JWT
// exceeds, so there a record is split over several items (see blob);
// Secret Service has no such limit and a record takes one item.
//
// Update holds an exclusive flock on keyring.lock in the store directory
// from its read to its write, so Updates are atomic across processes;
// Load and List hold a shared one.
//
// go-keyring calls cannot be cancelled: once a keyring operation starts,
// ctx is not consulted until it returns.
type Keyring struct {
	service string
	lock    *fileLock
	s       secrets
	limit   int // bytes per item, 0 for no limit
}

// keyringRecord is the JSON of a record item.
type keyringRecord struct {
	Version int     `json:"version"`
	Record  *Record `json:"record"`
}

// keyringIndex is the JSON of the index item.
type keyringIndex struct {
	Version int   `json:"version"`
	Keys    []Key `json:"keys"`
}

// NewKeyring returns the Keyring store after checking that the keyring
// works: it stores, reads back and deletes a probe item, waiting at most
// opts.ProbeTimeout. It returns a [*KeyringUnavailableError] when no
// keyring service answers. It uses opts.Service, and opts.Dir (default
// [DefaultDir], created with mode 0700) for its lock file; opts.Backend
// and opts.Notice are ignored.
func NewKeyring(ctx context.Context, opts Options) (*Keyring, error) {
	return newKeyring(ctx, opts, systemSecrets{}, itemLimit())
}

func newKeyring(ctx context.Context, opts Options, s secrets, limit int) (*Keyring, error) {
	service := cmp.Or(opts.Service, DefaultService)
	if _, system := s.(systemSecrets); system {
		if err := sessionBus(); err != nil {
			return nil, &KeyringUnavailableError{Err: err}
		}
	}
	if err := probe(ctx, s, service, cmp.Or(opts.ProbeTimeout, DefaultProbeTimeout)); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mcpauth store: probing the keyring: %w", ctx.Err())
		}
		return nil, &KeyringUnavailableError{Err: err}
	}
	dir, err := storeDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	return &Keyring{
		service: service,
		lock:    newFileLock(filepath.Join(dir, keyringLockFile)),
		s:       s,
		limit:   limit,
	}, nil
}

// probe stores, reads back and deletes an item, within timeout.
func probe(ctx context.Context, s secrets, service string, timeout time.Duration) error {
	gen, err := newGeneration()
	if err != nil {
		return err
	}
	name := "probe-" + gen
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			const want = "mcpauth keyring probe"
			if err := s.Set(service, name, want); err != nil {
				return err
			}
			defer func() { _ = s.Delete(service, name) }()
			got, err := s.Get(service, name)
			if err != nil {
				return err
			}
			if got != want {
				return errors.New("the keyring returned something other than what was stored")
			}
			return nil
		}()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("the keyring did not answer within %v (is it locked, with an unlock prompt nobody can answer?)", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Service returns the keyring service name the store's items are under.
func (k *Keyring) Service() string { return k.service }

// recordItem names the item of key's record. Hashing keeps the name short
// whatever the URLs.
func recordItem(key Key) string {
	sum := sha256.Sum256([]byte(key.Resource + "\x00" + key.Issuer))
	return "record-" + hex.EncodeToString(sum[:16])
}

// Load implements Store.
func (k *Keyring) Load(ctx context.Context, key Key) (*Record, error) {
	unlock, err := k.lock.lock(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, _, err := k.get(key)
	return r, err
}

// List implements Store. Records come sorted by resource, then issuer.
func (k *Keyring) List(ctx context.Context) ([]*Record, error) {
	unlock, err := k.lock.lock(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	idx, _, err := k.index()
	if err != nil {
		return nil, err
	}
	out := make([]*Record, 0, len(idx.Keys))
	for _, key := range idx.Keys {
		r, _, err := k.get(key)
		if errors.Is(err, ErrNotFound) {
			continue // the index is written before the record and removed after it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Update implements Store. fn runs while this process holds the exclusive
// lock, so it may refresh a token over the network while other processes
// wait to read the result. Once fn has returned a record it is written
// even if ctx is done by then: a rotated refresh token must not be lost.
// fn must not call k.
func (k *Keyring) Update(ctx context.Context, key Key, fn func(*Record) (*Record, error)) (*Record, error) {
	unlock, err := k.lock.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	old, b, err := k.get(key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	before := encoded(old, key)
	next, err := fn(old)
	if err != nil {
		return nil, err
	}
	if next == nil {
		if old == nil {
			return nil, nil
		}
		return nil, k.remove(key, b)
	}
	next = next.Clone()
	next.Key = key
	// The index first: a record missing from the index would be lost to
	// List, an index entry without a record is skipped.
	if err := k.indexAdd(key); err != nil {
		return nil, err
	}
	if before != nil && bytes.Equal(before, encoded(next, key)) {
		return next.Clone(), nil // nothing changed: no write
	}
	data, err := json.Marshal(keyringRecord{Version: keyringFormat, Record: next})
	if err != nil {
		return nil, fmt.Errorf("mcpauth store: encoding record: %w", err)
	}
	if err := putBlob(k.s, k.service, recordItem(key), data, b, k.limit); err != nil {
		return nil, k.itemError("writing", recordItem(key), err)
	}
	return next.Clone(), nil
}

// Delete implements Store. Unlike Update it also removes a record that no
// longer reads back, which is how a user recovers from a corrupt one.
func (k *Keyring) Delete(ctx context.Context, key Key) error {
	unlock, err := k.lock.lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	_, b, err := k.get(key)
	var corrupt *CorruptError
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &corrupt) {
		return err
	}
	return k.remove(key, b)
}

// remove deletes key's record, then its index entry.
func (k *Keyring) remove(key Key, b blob) error {
	if err := deleteBlob(k.s, k.service, recordItem(key), b); err != nil {
		return k.itemError("deleting", recordItem(key), err)
	}
	idx, ib, err := k.index()
	if err != nil {
		return err
	}
	i := slices.Index(idx.Keys, key)
	if i < 0 {
		return nil
	}
	idx.Keys = slices.Delete(idx.Keys, i, i+1)
	return k.putIndex(idx, ib)
}

// get reads key's record: ErrNotFound when there is none, a
// [*CorruptError] when it does not read back.
func (k *Keyring) get(key Key) (*Record, blob, error) {
	name := recordItem(key)
	data, b, err := getBlob(k.s, k.service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, b, ErrNotFound
	}
	corrupt := func(reason string) error {
		return &CorruptError{
			Where:  fmt.Sprintf("keyring item %q of service %q (resource %q, issuer %q)", name, k.service, key.Resource, key.Issuer),
			Reason: reason,
			Fix:    "delete the record (Delete removes a corrupt one) and log in to that server again",
		}
	}
	if errors.Is(err, errBlobCorrupt) {
		return nil, b, corrupt(err.Error())
	}
	if err != nil {
		return nil, b, k.itemError("reading", name, err)
	}
	var kr keyringRecord
	if err := json.Unmarshal(data, &kr); err != nil {
		return nil, b, corrupt(decodeReason(err))
	}
	switch {
	case kr.Version == 0:
		return nil, b, corrupt("no format version")
	case kr.Version > keyringFormat:
		return nil, b, &FormatError{Where: fmt.Sprintf("keyring item %q of service %q", name, k.service), Version: kr.Version, Supported: keyringFormat}
	case kr.Record == nil:
		return nil, b, corrupt("no record")
	case kr.Record.Key != key:
		return nil, b, corrupt("it holds the record of another server")
	}
	return kr.Record, b, nil
}

// index reads the index; none is an empty one.
func (k *Keyring) index() (*keyringIndex, blob, error) {
	data, b, err := getBlob(k.s, k.service, indexItem)
	if errors.Is(err, keyring.ErrNotFound) {
		return &keyringIndex{Version: keyringFormat}, b, nil
	}
	corrupt := func(reason string) error {
		return &CorruptError{
			Where:  fmt.Sprintf("keyring item %q of service %q", indexItem, k.service),
			Reason: reason,
			Fix: "delete that item from the keyring: records stay readable by key, and List shows each again " +
				"once it is next updated",
		}
	}
	if errors.Is(err, errBlobCorrupt) {
		return nil, b, corrupt(err.Error())
	}
	if err != nil {
		return nil, b, k.itemError("reading", indexItem, err)
	}
	var idx keyringIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, b, corrupt(decodeReason(err))
	}
	switch {
	case idx.Version == 0:
		return nil, b, corrupt("no format version")
	case idx.Version > keyringFormat:
		return nil, b, &FormatError{Where: fmt.Sprintf("keyring item %q of service %q", indexItem, k.service), Version: idx.Version, Supported: keyringFormat}
	}
	return &idx, b, nil
}

// indexAdd adds key to the index unless it is there.
func (k *Keyring) indexAdd(key Key) error {
	idx, b, err := k.index()
	if err != nil {
		return err
	}
	if slices.Contains(idx.Keys, key) {
		return nil
	}
	idx.Keys = append(idx.Keys, key)
	return k.putIndex(idx, b)
}

// putIndex writes idx, keys sorted, over the index blob b.
func (k *Keyring) putIndex(idx *keyringIndex, b blob) error {
	idx.Version = keyringFormat
	slices.SortFunc(idx.Keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Issuer, b.Issuer))
	})
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("mcpauth store: encoding keyring index: %w", err)
	}
	if err := putBlob(k.s, k.service, indexItem, data, b, k.limit); err != nil {
		return k.itemError("writing", indexItem, err)
	}
	return nil
}

// itemError wraps an error of the keyring service.
func (k *Keyring) itemError(doing, item string, err error) error {
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("mcpauth store: %s keyring item %q of service %q: the keyring refused its size: %w", doing, item, k.service, err)
	}
	return fmt.Errorf("mcpauth store: %s keyring item %q of service %q: %w", doing, item, k.service, err)
}
