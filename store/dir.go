package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// HomeEnv names the environment variable that overrides [DefaultDir].
const HomeEnv = "MCPAUTH_HOME"

// DefaultDir returns the directory mcpauth keeps its state in: $MCPAUTH_HOME
// when set, else "mcpauth" under [os.UserConfigDir] ($XDG_CONFIG_HOME or
// ~/.config on Linux, ~/Library/Application Support on macOS, %AppData% on
// Windows). It does not create the directory.
func DefaultDir() (string, error) {
	if d := os.Getenv(HomeEnv); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("mcpauth store: no directory for credentials: %w; set %s", err, HomeEnv)
	}
	return filepath.Join(base, "mcpauth"), nil
}

// storeDir returns dir, or DefaultDir() when dir is empty, made absolute
// and private (see privateDir).
func storeDir(dir string) (string, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mcpauth store: %w", err)
	}
	if err := privateDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// ownFile reports whether name is one of the files this package puts in
// its directory.
func ownFile(name string) bool {
	switch name {
	case stateFile, stateLockFile, keyringLockFile, "config.json":
		return true // config.json is the mcpauth command's, in the same home
	}
	return strings.HasPrefix(name, stateFile+".") ||
		strings.HasPrefix(name, "login-") && strings.HasSuffix(name, ".lock") // the command's login locks
}

// privateDir creates dir with mode 0700, or checks that an existing dir is
// accessible by its owner only, so that credentials at rest are kept from
// other users (REF-1, TOK-3). An existing directory open to others is
// tightened to 0700 when it holds nothing but this package's files (it was
// ours, made under a lax umask or by hand); any other directory is refused
// rather than changed, since MCPAUTH_HOME may point at a shared directory
// whose mode is not ours to change. Windows has no mode bits: there the
// directory relies on the ACL of the user's profile.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("mcpauth store: creating %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("mcpauth store: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mcpauth store: %s is not a directory", dir)
	}
	if runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("mcpauth store: directory %s is accessible by other users (mode %04o) and %s; "+
			"restrict it with `chmod 700 %s`, or choose another directory with %s",
			dir, fi.Mode().Perm(), why, dir, HomeEnv)
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		return refuse("is a shared directory")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return refuse(fmt.Sprintf("could not be read (%v)", err))
	}
	for _, e := range entries {
		if !ownFile(e.Name()) {
			return refuse("holds files other than mcpauth's, so it was left unchanged")
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return refuse(fmt.Sprintf("could not be restricted (%v)", errors.Unwrap(err)))
	}
	return nil
}

// privateFile tightens an existing file to mode 0600; a missing file is
// not an error.
func privateFile(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mcpauth store: %w", err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("mcpauth store: %s is readable by other users and could not be restricted: %w; run `chmod 600 %s`", path, err, path)
	}
	return nil
}
