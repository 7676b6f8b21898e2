package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Names of the File store's files in its directory.
const (
	stateFile     = "state.json"
	stateLockFile = "state.lock"
)

// fileFormat is the version of state.json this package writes and the
// newest it reads.
const fileFormat = 1

// fileState is the content of state.json.
type fileState struct {
	// Version is the format version; a reader refuses versions newer than
	// the one it knows rather than drop what it does not understand.
	Version int       `json:"version"`
	Records []*Record `json:"records"`
}

// File is a Store kept in one JSON file, state.json, in a directory only
// its owner can open (mode 0700, the file 0600), for clients without a
// system keyring (REF-1, TOK-3: tokens at rest are protected by the
// operating system's file permissions, not encrypted).
//
// Every write replaces the file atomically (see writeAtomic), so a crash
// never leaves it half written. Update holds an exclusive flock on
// state.lock from its read to its write, so Updates are atomic across
// processes sharing the directory; Load and List hold a shared one. A file
// that does not decode is reported as a [*CorruptError] and never
// overwritten: the user decides whether to move it aside.
type File struct {
	path string
	lock *fileLock
}

// NewFile returns the File store in dir, creating dir with mode 0700 if
// needed. An empty dir means [DefaultDir]. It fails if dir is open to
// other users and cannot be restricted (see privateDir).
func NewFile(dir string) (*File, error) {
	dir, err := storeDir(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, stateFile)
	if err := privateFile(path); err != nil {
		return nil, err
	}
	return &File{path: path, lock: newFileLock(filepath.Join(dir, stateLockFile))}, nil
}

// Path returns the path of the state file.
func (f *File) Path() string { return f.path }

// Load implements Store.
func (f *File) Load(ctx context.Context, key Key) (*Record, error) {
	st, err := f.readShared(ctx)
	if err != nil {
		return nil, err
	}
	if i := st.find(key); i >= 0 {
		return st.Records[i], nil
	}
	return nil, ErrNotFound
}

// List implements Store. Records come sorted by resource, then issuer.
func (f *File) List(ctx context.Context) ([]*Record, error) {
	st, err := f.readShared(ctx)
	if err != nil {
		return nil, err
	}
	return st.Records, nil
}

// readShared reads the state file under the shared lock.
func (f *File) readShared(ctx context.Context) (*fileState, error) {
	unlock, err := f.lock.lock(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return f.read()
}

// Update implements Store. fn runs while this process holds the exclusive
// lock, so it may refresh a token over the network while other processes
// wait to read the result. Once fn has returned a record it is written
// even if ctx is done by then: a rotated refresh token must not be lost.
// fn must not call f.
func (f *File) Update(ctx context.Context, key Key, fn func(*Record) (*Record, error)) (*Record, error) {
	unlock, err := f.lock.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := f.read()
	if err != nil {
		return nil, err
	}
	i := st.find(key)
	var old *Record
	if i >= 0 {
		old = st.Records[i] // decoded afresh: no one else holds it
	}
	before := encoded(old, key)
	next, err := fn(old)
	if err != nil {
		return nil, err
	}
	switch {
	case next == nil && i < 0:
		return nil, nil
	case before != nil && bytes.Equal(before, encoded(next, key)):
		next = next.Clone()
		next.Key = key
		return next, nil // nothing changed: no write
	case next == nil:
		st.Records = slices.Delete(st.Records, i, i+1)
	case i < 0:
		next = next.Clone()
		next.Key = key
		st.Records = append(st.Records, next)
	default:
		next = next.Clone()
		next.Key = key
		st.Records[i] = next
	}
	if err := f.write(st); err != nil {
		return nil, err
	}
	return next.Clone(), nil
}

// Delete implements Store. A corrupt state file is not rewritten, so
// Delete then fails too.
func (f *File) Delete(ctx context.Context, key Key) error {
	_, err := f.Update(ctx, key, func(*Record) (*Record, error) { return nil, nil })
	return err
}

// read decodes the state file; a missing file is an empty store.
func (f *File) read() (*fileState, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileState{Version: fileFormat}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mcpauth store: %w", err)
	}
	corrupt := func(reason string) error {
		return &CorruptError{
			Where:  f.path,
			Reason: reason,
			Fix: fmt.Sprintf("if you can, repair it by hand; otherwise move it aside (mv %s %s.corrupt) "+
				"and log in to your MCP servers again", f.path, f.path),
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, corrupt("empty file")
	}
	var st fileState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, corrupt(decodeReason(err))
	}
	switch {
	case st.Version == 0:
		return nil, corrupt("no format version")
	case st.Version > fileFormat:
		return nil, &FormatError{Where: f.path, Version: st.Version, Supported: fileFormat}
	}
	seen := make(map[Key]bool, len(st.Records))
	for _, r := range st.Records {
		if r == nil {
			return nil, corrupt("a record is null")
		}
		if seen[r.Key] {
			return nil, corrupt(fmt.Sprintf("two records for resource %q at issuer %q", r.Resource, r.Issuer))
		}
		seen[r.Key] = true
	}
	return &st, nil
}

// write replaces the state file with st, records sorted by key.
func (f *File) write(st *fileState) error {
	st.Version = fileFormat
	slices.SortFunc(st.Records, func(a, b *Record) int {
		return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Issuer, b.Issuer))
	})
	if st.Records == nil {
		st.Records = []*Record{}
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("mcpauth store: encoding records: %w", err)
	}
	if err := writeAtomic(f.path, append(data, '\n')); err != nil {
		return err
	}
	removeStaleTemps(f.path)
	return nil
}

// find returns the index of key's record, or -1.
func (st *fileState) find(key Key) int {
	return slices.IndexFunc(st.Records, func(r *Record) bool { return r.Key == key })
}
