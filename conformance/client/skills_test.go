// Tests for the skills host: verification of skill files against the
// listing, end to end against an in-process server on both wires.

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	testSkillURI = "skill://pdf-processing/SKILL.md"
	testFormsURI = "skill://pdf-processing/references/FORMS.md"
	testSkillMD  = "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n---\n\nSkill body.\n"
	testFormsMD  = "Supporting content.\n"
)

// digestOf is the listing digest of s.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// skillServer serves one skill whose SKILL.md content is served and whose
// listing says listed; it records every resources/read.
type skillServer struct {
	served, listed string
	listedFM       map[string]any

	mu    sync.Mutex
	reads []string
}

// start serves the skill over streamable HTTP and returns its URL. A
// stateless server speaks the 2026-07-28 wire (server/discover).
func (s *skillServer) start(t *testing.T, stateless bool) string {
	t.Helper()
	caps := &mcp.ServerCapabilities{}
	caps.AddExtension(skillsExtension, nil)
	srv := mcp.NewServer(&mcp.Implementation{Name: "skills-test", Version: "1"}, &mcp.ServerOptions{Capabilities: caps})
	read := func(uri, text string) mcp.ResourceHandler {
		return func(_ context.Context, _ *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			s.mu.Lock()
			s.reads = append(s.reads, uri)
			s.mu.Unlock()
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/markdown", Text: text}}}, nil
		}
	}
	srv.AddResource(&mcp.Resource{URI: testSkillURI, Name: "pdf-processing"}, read(testSkillURI, s.served))
	srv.AddResource(&mcp.Resource{URI: testFormsURI, Name: "FORMS.md"}, read(testFormsURI, testFormsMD))
	size := func(s string) *int64 { n := int64(len(s)); return &n }
	err := mcp.AddReceivingCustomMethod(srv, methodListSkills,
		func(context.Context, *mcp.ServerSession, *listSkillsParams) (*listSkillsResult, error) {
			files := []skillFile{
				{URI: testSkillURI, Digest: digestOf(s.listed), Size: size(s.listed)},
				{URI: testFormsURI, Digest: digestOf(testFormsMD), Size: size(testFormsMD)},
			}
			raw, err := json.Marshal(files)
			if err != nil {
				return nil, err
			}
			return &listSkillsResult{Skills: []skillEntry{{URI: testSkillURI, Frontmatter: s.listedFM, Resources: raw}}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: stateless}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// readURIs returns the URIs read so far.
func (s *skillServer) readURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reads)
}

func TestSkillsLoad(t *testing.T) {
	goodFM := map[string]any{"name": "pdf-processing", "description": "Extract, fill, and assemble PDF documents"}
	tampered := strings.Replace(testSkillMD, "Skill body.", "Evil body!!", 1)
	otherFM := strings.Replace(testSkillMD, "Extract, fill, and assemble PDF documents", "Exfiltrate credentials", 1)
	tests := []struct {
		name           string
		served, listed string
		wantErr        string // empty: the skill loads and FORMS.md is read
	}{
		{"verified", testSkillMD, testSkillMD, ""},
		{"digest mismatch", tampered, testSkillMD, "digest mismatch"},
		{"size mismatch", testSkillMD + "extra\n", testSkillMD, "size mismatch"},
		// The listing's digest and size match the served file, but its
		// frontmatter does not.
		{"frontmatter mismatch", otherFM, otherFM, "frontmatter differs"},
	}
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		for _, tt := range tests {
			t.Run(version+"/"+tt.name, func(t *testing.T) {
				srv := &skillServer{served: tt.served, listed: tt.listed, listedFM: goodFM}
				url := srv.start(t, version >= "2026-07-28")
				err := runSkillsLoad(t.Context(), url, &scenarioEnv{Name: "test", ProtocolVersion: version})
				reads := srv.readURIs()
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("runSkillsLoad: %v", err)
					}
					if !slices.Equal(reads, []string{testSkillURI, testFormsURI}) {
						t.Errorf("reads = %v, want SKILL.md then FORMS.md", reads)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("runSkillsLoad error = %v, want one containing %q", err, tt.wantErr)
				}
				if !slices.Equal(reads, []string{testSkillURI}) {
					t.Errorf("reads = %v, want only SKILL.md: a refused skill's other files must not be read", reads)
				}
			})
		}
	}
}

func TestSkillsBrowseReadsNothing(t *testing.T) {
	srv := &skillServer{served: testSkillMD, listed: testSkillMD, listedFM: map[string]any{"name": "pdf-processing"}}
	url := srv.start(t, false)
	if err := runSkillsBrowse(t.Context(), url, &scenarioEnv{Name: "test", ProtocolVersion: "2025-11-25"}); err != nil {
		t.Fatal(err)
	}
	if reads := srv.readURIs(); len(reads) != 0 {
		t.Errorf("browsing read %v; no skill file may be read before a skill is loaded", reads)
	}
}

func TestVerifyFile(t *testing.T) {
	n := int64(len(testFormsMD))
	good := skillFile{URI: testFormsURI, Digest: digestOf(testFormsMD), Size: &n}
	if err := verifyFile([]byte(testFormsMD), good); err != nil {
		t.Errorf("verifyFile(good) = %v", err)
	}
	upper := good
	upper.Digest = "sha256:" + strings.ToUpper(strings.TrimPrefix(good.Digest, "sha256:"))
	if err := verifyFile([]byte(testFormsMD), upper); err != nil {
		t.Errorf("verifyFile(upper-case hex) = %v", err)
	}
	for name, f := range map[string]skillFile{
		"no size":         {URI: good.URI, Digest: good.Digest},
		"other algorithm": {URI: good.URI, Digest: "sha512:" + strings.Repeat("0", 128), Size: &n},
		"short digest":    {URI: good.URI, Digest: "sha256:abcd", Size: &n},
		"wrong digest":    {URI: good.URI, Digest: digestOf("other"), Size: &n},
	} {
		if err := verifyFile([]byte(testFormsMD), f); err == nil {
			t.Errorf("verifyFile(%s) = nil, want an error", name)
		}
	}
}

func TestCompareFrontmatter(t *testing.T) {
	file := map[string]any{"name": "x", "version": 1.0, "metadata": map[string]any{"k": "v"}}
	listed := map[string]any{"name": "x", "version": 1, "metadata": map[string]any{"k": "v"}}
	if d := compareFrontmatter(file, listed); len(d) != 0 {
		t.Errorf("equal frontmatter reported different: %v", d)
	}
	listed["extra"] = "y"
	if d := compareFrontmatter(file, listed); len(d) != 1 || !strings.HasPrefix(d[0], "extra:") {
		t.Errorf("differences = %v, want one for extra", d)
	}
	// A missing field equals null.
	if d := compareFrontmatter(map[string]any{"a": nil}, map[string]any{}); len(d) != 0 {
		t.Errorf("null vs missing reported different: %v", d)
	}
}
