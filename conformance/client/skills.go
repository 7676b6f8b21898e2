// A host for the SEP-2640 skills extension: it lists the skills a server
// offers without reading any of their files, and when a skill is loaded it
// reads the SKILL.md, checks it against the listing (size, digest and
// frontmatter) and refuses the skill on any discrepancy before reading
// anything else.

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// skillsExtension is the capability key of the skills extension.
	skillsExtension = "io.modelcontextprotocol/skills"
	// methodListSkills lists the skills a server offers.
	methodListSkills = "skills/list"
	// maxSkillPages bounds how many skills/list pages are followed.
	maxSkillPages = 50
)

// listSkillsParams are the parameters of skills/list.
type listSkillsParams struct {
	mcp.ParamsBase
	Cursor string `json:"cursor,omitempty"`
}

// listSkillsResult is the result of skills/list.
type listSkillsResult struct {
	mcp.ResultBase
	Skills     []skillEntry `json:"skills"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// skillEntry describes one skill in a listing.
type skillEntry struct {
	// URI is the skill's SKILL.md, skill://<skill-path>/SKILL.md.
	URI string `json:"uri"`
	// Frontmatter must equal the SKILL.md frontmatter, field by field.
	Frontmatter map[string]any `json:"frontmatter"`
	// Resources lists the skill's files with their digests and sizes, or is
	// the string "dynamic" when the server does not enumerate them.
	Resources json.RawMessage `json:"resources"`
}

// skillFile is one file of a skill as listed by the server.
type skillFile struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
	Size   *int64 `json:"size"`
}

// name returns the skill name: the path segment before SKILL.md.
func (e *skillEntry) name() string {
	segs := strings.Split(strings.TrimSuffix(e.URI, "/SKILL.md"), "/")
	return segs[len(segs)-1]
}

// files returns the listed files; nil when the listing is "dynamic".
func (e *skillEntry) files() ([]skillFile, error) {
	if len(e.Resources) == 0 || string(e.Resources) == `"dynamic"` {
		return nil, nil
	}
	var files []skillFile
	if err := json.Unmarshal(e.Resources, &files); err != nil {
		return nil, fmt.Errorf("resources is neither a list of files nor \"dynamic\": %v", err)
	}
	return files, nil
}

// connectSkillsHost opens a session that announces the skills extension and
// checks that the server offers it.
func connectSkillsHost(ctx context.Context, serverURL string, env *scenarioEnv) (*session, error) {
	caps := &mcp.ClientCapabilities{}
	caps.AddExtension(skillsExtension, nil)
	s, err := connect(ctx, serverURL, env, &mcp.ClientOptions{Capabilities: caps})
	if err != nil {
		return nil, err
	}
	if serverCaps := s.InitializeResult().Capabilities; serverCaps == nil || serverCaps.Extensions[skillsExtension] == nil {
		s.Close()
		return nil, fmt.Errorf("server does not offer the %s extension", skillsExtension)
	}
	if err := mcp.AddSendingCustomMethod[*listSkillsParams, *listSkillsResult](s.client, methodListSkills); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// listSkills returns every skill the server lists, following pagination.
func listSkills(ctx context.Context, s *session) ([]skillEntry, error) {
	var skills []skillEntry
	seen := map[string]bool{}
	params := &listSkillsParams{}
	for range maxSkillPages {
		res, err := mcp.CallCustomMethod[*listSkillsParams, *listSkillsResult](ctx, s.ClientSession, methodListSkills, params)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", methodListSkills, err)
		}
		for _, e := range res.Skills {
			if !strings.HasSuffix(e.URI, "/SKILL.md") {
				logf("skipping skill entry with unusable uri %q", e.URI)
				continue
			}
			skills = append(skills, e)
		}
		if res.NextCursor == "" || seen[res.NextCursor] {
			return skills, nil
		}
		seen[res.NextCursor] = true
		params = &listSkillsParams{Cursor: res.NextCursor}
	}
	return skills, nil
}

// loadedSkill is a skill whose SKILL.md passed verification.
type loadedSkill struct {
	entry    skillEntry
	manifest []byte
	// files are the listed files other than SKILL.md, read on demand.
	files []skillFile
}

// loadSkill reads and verifies a skill's SKILL.md. It returns an error, and
// reads nothing else, when the content differs from the listing: a size or
// digest mismatch, unparseable frontmatter, or frontmatter that differs from
// the entry's in any field.
func loadSkill(ctx context.Context, s *session, entry skillEntry) (*loadedSkill, error) {
	files, err := entry.files()
	if err != nil {
		return nil, err
	}
	var manifestFile *skillFile
	var others []skillFile
	for i := range files {
		if files[i].URI == entry.URI {
			manifestFile = &files[i]
		} else {
			others = append(others, files[i])
		}
	}
	data, err := readResourceBytes(ctx, s, entry.URI)
	if err != nil {
		return nil, err
	}
	if manifestFile != nil {
		if err := verifyFile(data, *manifestFile); err != nil {
			return nil, err
		}
	} else if files != nil {
		return nil, fmt.Errorf("the listing has no entry for %s", entry.URI)
	}
	fm, err := parseFrontmatter(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", entry.URI, err)
	}
	if diffs := compareFrontmatter(fm, entry.Frontmatter); len(diffs) > 0 {
		return nil, fmt.Errorf("%s: frontmatter differs from the listing: %s", entry.URI, strings.Join(diffs, "; "))
	}
	return &loadedSkill{entry: entry, manifest: data, files: others}, nil
}

// readFile reads one of the skill's listed files and verifies it.
func (l *loadedSkill) readFile(ctx context.Context, s *session, f skillFile) ([]byte, error) {
	data, err := readResourceBytes(ctx, s, f.URI)
	if err != nil {
		return nil, err
	}
	if err := verifyFile(data, f); err != nil {
		return nil, err
	}
	return data, nil
}

// readResourceBytes reads a resource and returns the bytes of its content
// for that URI (text as UTF-8, or the decoded blob).
func readResourceBytes(ctx context.Context, s *session, uri string) ([]byte, error) {
	res, err := s.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		return nil, fmt.Errorf("resources/read %s: %w", uri, err)
	}
	for _, c := range res.Contents {
		if c.URI != "" && c.URI != uri {
			continue
		}
		if c.Blob != nil {
			return c.Blob, nil
		}
		return []byte(c.Text), nil
	}
	return nil, fmt.Errorf("resources/read %s: no content for that uri", uri)
}

// verifyFile checks content against a listed file's size and digest. A size
// mismatch is a verification failure on its own; the digest must be a
// sha256:<hex> value, any other algorithm is refused.
func verifyFile(data []byte, f skillFile) error {
	if f.Size == nil {
		return fmt.Errorf("%s: the listing gives no size", f.URI)
	}
	if int64(len(data)) != *f.Size {
		return fmt.Errorf("%s: size mismatch: listed %d bytes, read %d", f.URI, *f.Size, len(data))
	}
	want, ok := strings.CutPrefix(f.Digest, "sha256:")
	if !ok || len(want) != sha256.Size*2 {
		return fmt.Errorf("%s: unsupported digest %q (want sha256:<64 hex>)", f.URI, f.Digest)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
		return fmt.Errorf("%s: digest mismatch: listed sha256:%s, read sha256:%s", f.URI, want, got)
	}
	return nil
}

// compareFrontmatter compares a file's frontmatter with a listing's, field
// by field, and describes each difference. A missing field equals null.
func compareFrontmatter(file, listed map[string]any) []string {
	keys := map[string]bool{}
	for k := range file {
		keys[k] = true
	}
	for k := range listed {
		keys[k] = true
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		a, b := normalizeJSON(file[k]), normalizeJSON(listed[k])
		if !reflect.DeepEqual(a, b) {
			fa, _ := json.Marshal(a)
			fb, _ := json.Marshal(b)
			diffs = append(diffs, fmt.Sprintf("%s: file %s, listing %s", k, fa, fb))
		}
	}
	return diffs
}

// normalizeJSON maps a value to its plain JSON decoding (numbers become
// float64, typed slices and maps become []any and map[string]any), so that
// values from YAML and from JSON compare equal when they mean the same.
func normalizeJSON(v any) any {
	var out any
	if err := remarshal(v, &out); err != nil {
		return v
	}
	return out
}

// runSkillsBrowse lists the server's skills as a host shows them before the
// user picks one. Nothing is loaded, so no skill file is read: hosts must not
// fetch a skill's files ahead of need.
func runSkillsBrowse(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connectSkillsHost(ctx, serverURL, env)
	if err != nil {
		return err
	}
	defer s.Close()
	skills, err := listSkills(ctx, s)
	if err != nil {
		return err
	}
	for _, e := range skills {
		logf("skill %s: %v", e.name(), e.Frontmatter["description"])
	}
	logf("%d skill(s) available; none loaded", len(skills))
	return nil
}

// runSkillsLoad loads every skill the server lists and then reads the
// skill's other files, verifying each. A skill that fails verification is
// refused before any further file is read, and the run fails with the reason.
func runSkillsLoad(ctx context.Context, serverURL string, env *scenarioEnv) error {
	s, err := connectSkillsHost(ctx, serverURL, env)
	if err != nil {
		return err
	}
	defer s.Close()
	skills, err := listSkills(ctx, s)
	if err != nil {
		return err
	}
	if len(skills) == 0 {
		return fmt.Errorf("server lists no skills")
	}
	for _, e := range skills {
		skill, err := loadSkill(ctx, s, e)
		if err != nil {
			return fmt.Errorf("refused skill %s: %v", e.name(), err)
		}
		logf("loaded skill %s (%d bytes of SKILL.md)", e.name(), len(skill.manifest))
		for _, f := range skill.files {
			data, err := skill.readFile(ctx, s, f)
			if err != nil {
				return fmt.Errorf("skill %s: refused file: %v", e.name(), err)
			}
			logf("skill %s: read %s (%d bytes, verified)", e.name(), f.URI, len(data))
		}
	}
	return nil
}
