package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

func newFile(t *testing.T, dir string) *File {
	t.Helper()
	f, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no mode bits; the profile directory's ACL protects the store")
	}
}

func TestFileCreatesDirectory0700AndFiles0600(t *testing.T) {
	skipOnWindows(t)
	dir := filepath.Join(t.TempDir(), "a", "mcpauth")
	f := newFile(t, dir)
	put(t, f, sampleRecord(keyA))
	for path, want := range map[string]os.FileMode{
		dir:                               0o700,
		filepath.Join(dir, stateFile):     0o600,
		filepath.Join(dir, stateLockFile): 0o600,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("mode of %s = %04o, want %04o", path, got, want)
		}
	}
}

func TestFileTightensItsOwnDirectoryAndFileOpenToOthers(t *testing.T) {
	skipOnWindows(t)
	dir := filepath.Join(t.TempDir(), "mcpauth")
	put(t, newFile(t, dir), sampleRecord(keyA))
	state := filepath.Join(dir, stateFile)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o644); err != nil {
		t.Fatal(err)
	}
	newFile(t, dir)
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("directory mode = %04o, want 0700", got)
	}
	if got := mode(t, state); got != 0o600 {
		t.Errorf("state file mode = %04o, want 0600", got)
	}
}

func TestFileRefusesSharedDirectoryOpenToOthers(t *testing.T) {
	skipOnWindows(t)
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		other string
	}{
		{"with other files", 0o755, "notes.txt"},
		{"world-writable sticky", 0o777 | os.ModeSticky, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shared")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.other != "" {
				if err := os.WriteFile(filepath.Join(dir, tc.other), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := NewFile(dir)
			if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "chmod 700") {
				t.Fatalf("NewFile = %v, want an error naming %s and the fix", err, dir)
			}
			if got := mode(t, dir); got != tc.mode.Perm() {
				t.Errorf("mode changed to %04o", got)
			}
		})
	}
}

func TestDefaultDirHonoursMCPAUTH_HOME(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(HomeEnv, dir)
	got, err := DefaultDir()
	if err != nil || got != dir {
		t.Fatalf("DefaultDir = %q, %v; want %q", got, err, dir)
	}
	put(t, newFile(t, ""), sampleRecord(keyA))
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err != nil {
		t.Fatalf("NewFile(\"\") did not use %s: %v", HomeEnv, err)
	}
}

func TestDefaultDirMakesRelativeMCPAUTH_HOMEAbsolute(t *testing.T) {
	t.Setenv(HomeEnv, "rel")
	got, err := DefaultDir()
	if err != nil || !filepath.IsAbs(got) || filepath.Base(got) != "rel" {
		t.Fatalf("DefaultDir = %q, %v; want an absolute path ending in rel", got, err)
	}
}

func TestDefaultDirIsMcpauthInUserConfigDir(t *testing.T) {
	t.Setenv(HomeEnv, "")
	if runtime.GOOS == "linux" {
		t.Setenv("XDG_CONFIG_HOME", "/xdg/config")
	}
	base, err := os.UserConfigDir()
	if err != nil {
		t.Skip(err)
	}
	got, err := DefaultDir()
	if err != nil || got != filepath.Join(base, "mcpauth") {
		t.Fatalf("DefaultDir = %q, %v; want %q", got, err, filepath.Join(base, "mcpauth"))
	}
	if runtime.GOOS == "linux" && got != "/xdg/config/mcpauth" {
		t.Fatalf("DefaultDir = %q, want $XDG_CONFIG_HOME/mcpauth", got)
	}
}

func TestFileCrashBeforeRenameLeavesOldStateReadable(t *testing.T) {
	dir := t.TempDir()
	want := sampleRecord(keyA)
	put(t, newFile(t, dir), want)
	// A writer killed between writing its temporary file and renaming it
	// leaves the temporary file, half written, beside the state.
	stray := filepath.Join(dir, stateFile+".tmp-4242")
	if err := os.WriteFile(stray, []byte(`{"version":1,"records":[{"resou`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFile(t, dir)
	sameRecord(t, load(t, f, keyA), want)
	put(t, f, sampleRecord(keyB))
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stray temporary file still there after a write: %v", err)
	}
	sameRecord(t, load(t, f, keyA), want)
}

func TestFileReportsCorruptStateAndNeverOverwritesIt(t *testing.T) {
	const secret = "tok-SECRET-do-not-print"
	for _, tc := range []struct {
		name, content string
	}{
		{"garbage", "not json " + secret},
		{"truncated", `{"version":1,"records":[{"resource":"https://mcp.example.com","token":{"access_token":"` + secret},
		{"empty", ""},
		{"no version", `{"records":[]}`},
		{"null record", `{"version":1,"records":[null]}`},
		{"duplicate keys", `{"version":1,"records":[{"resource":"r","issuer":"i"},{"resource":"r","issuer":"i"}]}`},
		{"secret in a bad time", `{"version":1,"records":[{"resource":"r","issuer":"i","updated_at":"` + secret + `"}]}`},
		{"secret where a list goes", `{"version":1,"records":[{"resource":"r","issuer":"i","requested_scopes":"` + secret + `"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, stateFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f := newFile(t, dir)
			ctx := context.Background()
			called := false
			_, loadErr := f.Load(ctx, keyA)
			_, listErr := f.List(ctx)
			_, updateErr := f.Update(ctx, keyA, func(*Record) (*Record, error) { called = true; return sampleRecord(keyA), nil })
			deleteErr := f.Delete(ctx, keyA)
			for op, err := range map[string]error{"Load": loadErr, "List": listErr, "Update": updateErr, "Delete": deleteErr} {
				var corrupt *CorruptError
				if !errors.As(err, &corrupt) {
					t.Fatalf("%s = %v, want *CorruptError", op, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, path) || !strings.Contains(msg, "mv ") {
					t.Errorf("%s error %q does not name the file and the fix", op, msg)
				}
				if strings.Contains(msg, secret) {
					t.Errorf("%s error %q reveals stored content", op, msg)
				}
			}
			if called {
				t.Error("Update ran fn over a corrupt file")
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, []byte(tc.content)) {
				t.Errorf("corrupt file was changed to %q", got)
			}
		})
	}
}

func TestFileRefusesNewerFormat(t *testing.T) {
	dir := t.TempDir()
	content := []byte(`{"version":2,"records":[],"future":true}`)
	path := filepath.Join(dir, stateFile)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFile(t, dir)
	_, err := f.Update(context.Background(), keyA, increment(keyA))
	var format *FormatError
	if !errors.As(err, &format) || format.Version != 2 {
		t.Fatalf("Update = %v, want *FormatError for version 2", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Errorf("newer file was changed to %q", got)
	}
}

func TestFileUpdateHonoursContextWhileWaitingForLock(t *testing.T) {
	t.Run("held by another process", func(t *testing.T) {
		dir := t.TempDir()
		f := newFile(t, dir)
		// Another open file description stands for another process.
		other := flock.New(filepath.Join(dir, stateLockFile))
		if err := other.Lock(); err != nil {
			t.Fatal(err)
		}
		defer other.Unlock()
		waitsForLock(t, f)
	})
	t.Run("held by another goroutine", func(t *testing.T) {
		f := newFile(t, t.TempDir())
		inside, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() {
			_, err := f.Update(context.Background(), keyA, func(r *Record) (*Record, error) {
				close(inside)
				<-release
				return increment(keyA)(r)
			})
			done <- err
		}()
		<-inside
		waitsForLock(t, f)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// waitsForLock checks that f's operations, with the lock held elsewhere,
// give up with ctx's error once it expires.
func waitsForLock(t *testing.T, f *File) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.Update(ctx, keyA, func(*Record) (*Record, error) {
		t.Error("fn ran without the lock")
		return nil, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update = %v, want context.DeadlineExceeded", err)
	}
	if _, err := f.Load(ctx, keyA); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestFileUpdateWritesFnResultEvenIfContextEndsDuringFn(t *testing.T) {
	f := newFile(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	want := sampleRecord(keyA)
	// fn refreshed a rotating refresh token; the new one must be kept.
	if _, err := f.Update(ctx, keyA, func(*Record) (*Record, error) { cancel(); return want, nil }); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, load(t, f, keyA), want)
}

func TestFileKeepsStateHumanReadableAndVersioned(t *testing.T) {
	dir := t.TempDir()
	put(t, newFile(t, dir), sampleRecord(keyA))
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"version\": 1,\n  \"records\": [")) {
		t.Errorf("state file starts %q", data[:min(len(data), 60)])
	}
}

func TestFileUpdateThatChangesNothingDoesNotWrite(t *testing.T) {
	dir := t.TempDir()
	f := newFile(t, dir)
	put(t, f, sampleRecord(keyA))
	before, err := os.Stat(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Update(context.Background(), keyA, func(old *Record) (*Record, error) { return old, nil }); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("state file was replaced though nothing changed")
	}
}
