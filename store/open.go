package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Backend chooses where Open keeps credentials.
type Backend string

const (
	// BackendAuto uses the system keyring when one answers, else the
	// File store, with a notice. The empty Backend means BackendAuto.
	BackendAuto Backend = "auto"
	// BackendKeyring uses the system keyring or fails with a
	// [*KeyringUnavailableError].
	BackendKeyring Backend = "keyring"
	// BackendFile uses the File store.
	BackendFile Backend = "file"
)

// Options configure Open and NewKeyring.
type Options struct {
	// Backend is BackendAuto (the default), BackendKeyring or BackendFile.
	Backend Backend
	// Dir holds the File store and the Keyring store's lock file;
	// default DefaultDir().
	Dir string
	// Service is the keyring service name; default DefaultService.
	Service string
	// Notice receives the one-line notice BackendAuto prints when it
	// falls back to a File store that holds nothing yet; nil prints none.
	Notice io.Writer
	// ProbeTimeout bounds the keyring probe; default DefaultProbeTimeout.
	ProbeTimeout time.Duration
}

// Open returns the credential store opts choose (TOK-3: tokens are stored
// in the system keyring where there is one, else in a file only the user
// can read). With BackendAuto, a machine without a keyring service gets
// the File store and, while that store is still empty, exactly one line on
// opts.Notice saying so; errors
// other than a missing keyring are returned, not fallen back from.
func Open(ctx context.Context, opts Options) (Store, error) {
	return open(ctx, opts, systemSecrets{}, itemLimit())
}

func open(ctx context.Context, opts Options, s secrets, limit int) (Store, error) {
	switch opts.Backend {
	case BackendFile:
		return NewFile(opts.Dir)
	case BackendKeyring:
		k, err := newKeyring(ctx, opts, s, limit)
		if err != nil {
			return nil, err
		}
		return k, nil
	case "", BackendAuto:
		k, err := newKeyring(ctx, opts, s, limit)
		var unavailable *KeyringUnavailableError
		switch {
		case err == nil:
			return k, nil
		case !errors.As(err, &unavailable):
			return nil, err
		}
		f, err := NewFile(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("%w (the system keyring was not usable either: %v)", err, unavailable.Err)
		}
		// The notice is given when the file store is first used, not at
		// every command: once it holds credentials, the person was told.
		if _, statErr := os.Stat(f.Path()); opts.Notice != nil && errors.Is(statErr, fs.ErrNotExist) {
			fmt.Fprintf(opts.Notice, "mcpauth: no usable system keyring (%v); storing credentials in %s, protected only by file permissions\n",
				unavailable.Err, f.Path())
		}
		return f, nil
	default:
		return nil, fmt.Errorf("mcpauth store: unknown backend %q (want %q, %q or %q)", opts.Backend, BackendAuto, BackendKeyring, BackendFile)
	}
}
