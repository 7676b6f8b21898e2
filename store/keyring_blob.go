package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// blobMagic starts the head item of every blob.
const blobMagic = "mcpauth-blob/1"

// blob is stored data spread over keyring items, since an item holds only
// itemLimit bytes on Windows and macOS. The head item, under the blob's
// name, holds the line
//
//	mcpauth-blob/1 <parts> <generation> <sha256 of the data, hex>
//
// followed by the first part; part i>0 is the item "<name>~<generation>~<i>".
// A write stores the new generation's parts first, then the head (one
// atomic item write), then removes the old generation's parts, so a write
// cut short leaves the old blob whole, at worst with orphaned parts. The
// digest detects parts that do not belong together.
type blob struct {
	parts int
	gen   string
}

// partName names part i (i > 0) of generation gen of blob name.
func partName(name, gen string, i int) string {
	return name + "~" + gen + "~" + strconv.Itoa(i)
}

// errBlobCorrupt wraps what makes a blob unreadable.
var errBlobCorrupt = errors.New("unreadable keyring data")

// getBlob reads blob name. It returns keyring.ErrNotFound when there is
// none, and an error wrapping errBlobCorrupt when it does not read back.
func getBlob(s secrets, service, name string) ([]byte, blob, error) {
	head, err := s.Get(service, name)
	if err != nil {
		return nil, blob{}, err
	}
	line, first, ok := strings.Cut(head, "\n")
	f := strings.Fields(line)
	if !ok || len(f) != 4 || f[0] != blobMagic {
		return nil, blob{}, fmt.Errorf("%w: no mcpauth header", errBlobCorrupt)
	}
	parts, err := strconv.Atoi(f[1])
	if err != nil || parts < 1 || parts > 10000 {
		return nil, blob{}, fmt.Errorf("%w: bad part count", errBlobCorrupt)
	}
	b := blob{parts: parts, gen: f[2]}
	var data strings.Builder
	data.WriteString(first)
	for i := 1; i < parts; i++ {
		p, err := s.Get(service, partName(name, b.gen, i))
		if errors.Is(err, keyring.ErrNotFound) {
			return nil, b, fmt.Errorf("%w: part %d of %d is missing", errBlobCorrupt, i+1, parts)
		}
		if err != nil {
			return nil, b, err
		}
		data.WriteString(p)
	}
	sum := sha256.Sum256([]byte(data.String()))
	if hex.EncodeToString(sum[:]) != f[3] {
		return nil, b, fmt.Errorf("%w: parts do not match their digest", errBlobCorrupt)
	}
	return []byte(data.String()), b, nil
}

// putBlob stores data as blob name, replacing old (zero if none).
func putBlob(s secrets, service, name string, data []byte, old blob, limit int) error {
	gen, err := newGeneration()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	// The header is at most len(blobMagic)+1+5+1+8+1+64+1 bytes.
	parts := split(string(data), limit, len(blobMagic)+82)
	header := fmt.Sprintf("%s %d %s %s\n", blobMagic, len(parts), gen, hex.EncodeToString(sum[:]))
	for i := 1; i < len(parts); i++ {
		if err := s.Set(service, partName(name, gen, i), parts[i]); err != nil {
			deleteParts(s, service, name, blob{parts: i, gen: gen})
			return err
		}
	}
	if err := s.Set(service, name, header+parts[0]); err != nil {
		deleteParts(s, service, name, blob{parts: len(parts), gen: gen})
		return err
	}
	if old.gen != gen {
		deleteParts(s, service, name, old)
	}
	return nil
}

// deleteBlob removes blob name: the head first, so that the blob is gone
// at once, then b's other parts.
func deleteBlob(s secrets, service, name string, b blob) error {
	if err := s.Delete(service, name); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	deleteParts(s, service, name, b)
	return nil
}

// deleteParts removes parts 1 and on of b, as far as it can: a part left
// behind is garbage, not a failure.
func deleteParts(s secrets, service, name string, b blob) {
	for i := 1; i < b.parts; i++ {
		_ = s.Delete(service, partName(name, b.gen, i))
	}
}

// split cuts s into parts of at most limit bytes, the first leaving room
// for a header of reserve bytes, on UTF-8 character boundaries (the macOS
// keychain hex-encodes a secret that is not valid UTF-8). limit 0 means no
// limit.
func split(s string, limit, reserve int) []string {
	if limit <= 0 {
		return []string{s}
	}
	var parts []string
	room := limit - reserve
	for len(s) > room {
		n := room
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			n = room
		}
		parts = append(parts, s[:n])
		s = s[n:]
		room = limit
	}
	return append(parts, s)
}

// newGeneration returns a random tag for a blob write.
func newGeneration() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mcpauth store: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
