package store

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tempPattern names the temporary files writeAtomic leaves behind only
// when it is killed; the next write removes them.
func tempPattern(path string) string { return tempPrefix(path) + "*" }

func tempPrefix(path string) string { return filepath.Base(path) + ".tmp-" }

// writeAtomic replaces path with data so that a reader, or a process
// starting after a crash at any point, sees either the old content or the
// new, never a mix: it writes a temporary file (mode 0600) in the same
// directory, fsyncs it, renames it over path and fsyncs the directory so
// that the rename itself is durable.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return fmt.Errorf("mcpauth store: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("mcpauth store: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("mcpauth store: writing %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("mcpauth store: syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("mcpauth store: closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("mcpauth store: %w", err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("mcpauth store: syncing directory %s: %w", dir, err)
	}
	return nil
}

// syncDir makes the directory entries of dir durable. Windows cannot open
// a directory for syncing; there MoveFileEx is already write-through.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeStaleTemps removes the temporary files of writes to path that a
// killed process left behind. It must run under the store's exclusive
// lock, when no other write can be under way.
func removeStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix(path)) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
