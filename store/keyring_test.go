package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

func TestSplitKeepsPartsWithinLimitAndCharactersWhole(t *testing.T) {
	for _, tc := range []struct {
		name           string
		s              string
		limit, reserve int
		parts          int
	}{
		{"no limit", strings.Repeat("a", 10000), 0, 96, 1},
		{"fits", "short", 100, 10, 1},
		{"ascii", strings.Repeat("a", 250), 100, 10, 3},
		{"multibyte at the cut", strings.Repeat("a", 89) + "ü" + strings.Repeat("€", 60), 100, 10, 3},
		{"all multibyte", strings.Repeat("✓", 100), 32, 4, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := split(tc.s, tc.limit, tc.reserve)
			if len(parts) != tc.parts {
				t.Errorf("%d parts, want %d", len(parts), tc.parts)
			}
			if strings.Join(parts, "") != tc.s {
				t.Fatal("parts do not join back to the input")
			}
			for i, p := range parts {
				room := tc.limit
				if i == 0 {
					room -= tc.reserve
				}
				if tc.limit > 0 && len(p) > room {
					t.Errorf("part %d has %d bytes, limit %d", i, len(p), room)
				}
				if !utf8.ValidString(p) {
					t.Errorf("part %d cuts a character", i)
				}
			}
		})
	}
}

func TestKeyringSplitsRecordsOverItemsWithinTheSizeLimit(t *testing.T) {
	const limit = 300 // Windows allows 2560 bytes; a small limit gives many parts
	s := &fakeSecrets{maxSize: limit}
	k := fakeKeyring(t, s, limit)
	big := sampleRecord(keyA)
	put(t, k, big)
	name := recordItem(keyA)
	parts := len(s.accounts(k.service, name))
	if parts < 5 {
		t.Fatalf("record of several KB stored in %d items, want it split", parts)
	}
	sameRecord(t, load(t, k, keyA), big)

	small := sampleRecord(keyA)
	small.Token.AccessToken = "short"
	small.ServerMetadata, small.ResourceMetadata = nil, nil
	put(t, k, small)
	sameRecord(t, load(t, k, keyA), small)
	if now := len(s.accounts(k.service, name)); now >= parts {
		t.Errorf("overwrite left %d items (had %d): the old parts were not removed", now, parts)
	}

	if err := k.Delete(context.Background(), keyA); err != nil {
		t.Fatal(err)
	}
	if left := s.accounts(k.service, "record-"); len(left) != 0 {
		t.Errorf("Delete left items %v", left)
	}
}

func TestKeyringWriteCutShortLeavesOldRecord(t *testing.T) {
	s := &fakeSecrets{maxSize: 300}
	k := fakeKeyring(t, s, 300)
	old := sampleRecord(keyA)
	put(t, k, old)
	before := len(s.accounts(k.service, recordItem(keyA)))
	// The new generation's parts are written; then writing the head fails.
	s.failSet = func(user string) bool { return user == recordItem(keyA) }
	next := sampleRecord(keyA)
	next.Token.AccessToken = strings.Repeat("n", 2000)
	if _, err := k.Update(context.Background(), keyA, func(*Record) (*Record, error) { return next, nil }); err == nil {
		t.Fatal("Update succeeded with a failing keyring")
	}
	s.failSet = nil
	sameRecord(t, load(t, k, keyA), old)
	if after := len(s.accounts(k.service, recordItem(keyA))); after != before {
		t.Errorf("failed write left %d items, had %d", after, before)
	}
}

func TestKeyringReportsCorruptItemsAndDeleteRemovesThem(t *testing.T) {
	const secret = "tok-SECRET-do-not-print"
	for _, tc := range []struct {
		name string
		head string // "" leaves the record as written
		drop bool   // drop its second part
	}{
		{"no header", `{"version":1,"record":{"access_token":"` + secret + `"}}`, false},
		{"digest mismatch", blobMagic + " 1 00000000 " + strings.Repeat("0", 64) + "\n" + secret, false},
		{"not JSON", "", false},
		{"missing part", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSecrets{}
			k := fakeKeyring(t, s, 300)
			put(t, k, sampleRecord(keyA))
			name := recordItem(keyA)
			switch {
			case tc.drop:
				for _, a := range s.accounts(k.service, name+"~") {
					if strings.HasSuffix(a, "~1") {
						_ = s.Delete(k.service, a)
					}
				}
			case tc.head != "":
				_ = s.Set(k.service, name, tc.head)
			default:
				if err := putBlob(s, k.service, name, []byte("{"+secret), blob{}, 0); err != nil {
					t.Fatal(err)
				}
			}
			_, loadErr := k.Load(context.Background(), keyA)
			_, listErr := k.List(context.Background())
			called := false
			_, updateErr := k.Update(context.Background(), keyA, func(*Record) (*Record, error) { called = true; return nil, nil })
			for op, err := range map[string]error{"Load": loadErr, "List": listErr, "Update": updateErr} {
				var corrupt *CorruptError
				if !errors.As(err, &corrupt) {
					t.Fatalf("%s = %v, want *CorruptError", op, err)
				}
				if !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), secret) {
					t.Errorf("%s error %q should name item %s and no content", op, err, name)
				}
			}
			if called {
				t.Error("Update ran fn over a corrupt record")
			}
			if err := k.Delete(context.Background(), keyA); err != nil {
				t.Fatalf("Delete of a corrupt record = %v", err)
			}
			if _, err := k.Load(context.Background(), keyA); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
			}
			if list, err := k.List(context.Background()); err != nil || len(list) != 0 {
				t.Fatalf("List after Delete = %v, %v", list, err)
			}
		})
	}
}

func TestKeyringRecordUnderAnotherKeysItemIsCorrupt(t *testing.T) {
	s := &fakeSecrets{}
	k := fakeKeyring(t, s, 0)
	put(t, k, sampleRecord(keyB))
	v, _ := s.Get(k.service, recordItem(keyB))
	_ = s.Set(k.service, recordItem(keyA), v)
	var corrupt *CorruptError
	if _, err := k.Load(context.Background(), keyA); !errors.As(err, &corrupt) {
		t.Fatalf("Load = %v, want *CorruptError", err)
	}
}

func TestNewKeyringReportsMissingKeyringAsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *fakeSecrets
	}{
		{"keyring errors", &fakeSecrets{err: errors.New("The name org.freedesktop.secrets was not provided by any .service files")}},
		{"keyring never answers", &fakeSecrets{hang: make(chan struct{})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s.hang != nil {
				defer close(tc.s.hang)
			}
			start := time.Now()
			_, err := newKeyring(context.Background(), Options{Dir: t.TempDir(), ProbeTimeout: 100 * time.Millisecond}, tc.s, 0)
			var unavailable *KeyringUnavailableError
			if !errors.As(err, &unavailable) || !errors.Is(err, ErrKeyringUnavailable) {
				t.Fatalf("newKeyring = %v, want *KeyringUnavailableError", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestNewKeyringProbeLeavesNoItem(t *testing.T) {
	s := &fakeSecrets{}
	fakeKeyring(t, s, 0)
	if s.calls != 3 || len(s.items) != 0 {
		t.Fatalf("probe made %d calls and left %v; want set, get, delete and nothing left", s.calls, s.items)
	}
}

func TestNewKeyringWithoutSessionBusIsUnavailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus session bus applies to Linux")
	}
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a session bus socket in /run/user")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	_, err := NewKeyring(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "D-Bus") {
		t.Fatalf("NewKeyring = %v, want unavailable for want of D-Bus", err)
	}
}

func TestOpenChoosesBackend(t *testing.T) {
	down := func() *fakeSecrets { return &fakeSecrets{err: errors.New("no keyring here")} }
	for _, tc := range []struct {
		name    string
		backend Backend
		s       *fakeSecrets
		want    string // "keyring", "file" or "error"
		notice  bool
	}{
		{"auto uses a working keyring", BackendAuto, &fakeSecrets{}, "keyring", false},
		{"empty means auto", "", &fakeSecrets{}, "keyring", false},
		{"auto falls back to file with a notice", BackendAuto, down(), "file", true},
		{"keyring is strict", BackendKeyring, down(), "error", false},
		{"keyring uses a working keyring", BackendKeyring, &fakeSecrets{}, "keyring", false},
		{"file never probes the keyring", BackendFile, down(), "file", false},
		{"unknown backend", "vault", &fakeSecrets{}, "error", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var notice bytes.Buffer
			s, err := open(context.Background(), Options{Backend: tc.backend, Dir: dir, Notice: &notice}, tc.s, 0)
			switch tc.want {
			case "keyring":
				if _, ok := s.(*Keyring); !ok || err != nil {
					t.Fatalf("Open = %T, %v; want *Keyring", s, err)
				}
			case "file":
				if _, ok := s.(*File); !ok || err != nil {
					t.Fatalf("Open = %T, %v; want *File", s, err)
				}
			case "error":
				if err == nil || s != nil {
					t.Fatalf("Open = %T, %v; want an error", s, err)
				}
			}
			if tc.backend == BackendKeyring && tc.want == "error" && !errors.Is(err, ErrKeyringUnavailable) {
				t.Errorf("error %v does not match ErrKeyringUnavailable", err)
			}
			if tc.backend == BackendFile && tc.s.calls != 0 {
				t.Errorf("file backend made %d keyring calls", tc.s.calls)
			}
			lines := strings.Count(notice.String(), "\n")
			switch {
			case tc.notice && (lines != 1 || !strings.Contains(notice.String(), filepath.Join(dir, stateFile)) || !strings.Contains(notice.String(), "keyring")):
				t.Errorf("notice %q: want one line naming the keyring and %s", notice.String(), filepath.Join(dir, stateFile))
			case !tc.notice && notice.Len() > 0:
				t.Errorf("unexpected notice %q", notice.String())
			}
		})
	}
}

func TestKeyringKeepsNoTokensOnDisk(t *testing.T) {
	dir := t.TempDir()
	k := systemKeyring(t, dir, 0)
	r := sampleRecord(keyA)
	put(t, k, r)
	// The record is an item of the system keyring, under its service.
	if v, err := keyring.Get(k.Service(), recordItem(keyA)); err != nil || !strings.Contains(v, r.Token.RefreshToken) {
		t.Fatalf("keyring item %s: %v", recordItem(keyA), err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if bytes.Contains(data, []byte(r.Token.RefreshToken)) {
			t.Errorf("%s holds the refresh token", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
